//! `$ref`s: each must resolve, and none may recurse.

use serde_json::Value;

use super::{err, SchemaError};

/// Every `$ref` must resolve, and none may lead back into itself: with each
/// ref target as a node and an edge T→U when U is referenced anywhere under
/// T, a cycle is a recursive schema.
pub(super) fn check_refs(root: &Value, refs: &[(String, String)]) -> Result<(), SchemaError> {
    for (at, target) in refs {
        if root.pointer(&target[1..]).is_none() {
            return Err(err(
                &format!("{at}/$ref"),
                "$ref",
                format!("{target} does not resolve"),
            ));
        }
    }
    let under =
        |node: &str, at: &str| node.is_empty() || at == node || at.starts_with(&format!("{node}/"));
    // 0 = unvisited, 1 = on the DFS stack, 2 = done; nodes are indexes into `refs` (by target)
    fn visit<'a>(
        node: &'a str,
        refs: &'a [(String, String)],
        under: &dyn Fn(&str, &str) -> bool,
        state: &mut Vec<(&'a str, u8)>,
    ) -> Option<&'a str> {
        state.push((node, 1));
        for (at, target) in refs.iter().filter(|(at, _)| under(node, at)) {
            let next = &target[1..];
            match state.iter().find(|(n, _)| *n == next).map(|s| s.1) {
                Some(1) => return Some(at),
                Some(_) => {}
                None => {
                    if let Some(found) = visit(next, refs, under, state) {
                        return Some(found);
                    }
                }
            }
        }
        state
            .iter_mut()
            .find(|(n, _)| *n == node)
            .expect("pushed above")
            .1 = 2;
        None
    }
    let mut state = Vec::new();
    for (_, target) in refs {
        if state.iter().any(|(n, _)| *n == &target[1..]) {
            continue;
        }
        if let Some(at) = visit(&target[1..], refs, &under, &mut state) {
            return Err(err(
                &format!("{at}/$ref"),
                "$ref",
                "recursive schemas are not supported",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "refs_tests.rs"]
mod tests;
