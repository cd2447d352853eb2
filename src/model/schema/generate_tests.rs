//! What schemars adds on its own and `schema_for` takes away: the numeric
//! formats and the bounds that only restate a type's range.

use schemars::JsonSchema;
use serde_json::json;

use super::schema_for;

#[derive(JsonSchema)]
#[allow(dead_code)]
struct Sizes {
    a: i8,
    b: i16,
    c: u8,
    d: u16,
    e: u64,
    f: f32,
    #[schemars(range(min = -100))]
    g: i8,
    #[schemars(range(max = 100))]
    h: i16,
    #[schemars(range(min = 1))]
    i: u16,
}

#[test]
fn a_type_s_own_range_and_format_are_dropped_and_a_written_bound_is_kept() {
    let sent = schema_for::<Sizes>().unwrap();
    let props = &sent["properties"];
    for name in ["a", "b", "c", "d", "e"] {
        assert_eq!(props[name], json!({"type": "integer"}), "{name}");
    }
    assert_eq!(props["f"], json!({"type": "number"}));
    let described = |text: &str| json!({"type": "integer", "description": text});
    assert_eq!(props["g"], described("Must be at least -100."));
    assert_eq!(props["h"], described("Must be at most 100."));
    assert_eq!(props["i"], described("Must be at least 1."));
}
