//! What one schema node's keywords become: the notes written into its
//! description, and the reason a refused keyword is given.

use serde_json::json;

use super::super::{fit, fit_with, Unsupported};

#[test]
fn a_blank_description_gives_way_to_the_notes() {
    for blank in ["", " ", "\n\t"] {
        let fitted = fit(json!({"type": "integer", "description": blank, "minimum": 1})).unwrap();
        assert_eq!(fitted["description"], "Must be at least 1.", "{blank:?}");
    }
}

#[test]
fn one_of_is_refused_with_the_advice_to_use_any_of() {
    for unsupported in [Unsupported::Describe, Unsupported::Refuse] {
        let e = fit_with(json!({"oneOf": [{"type": "string"}]}), unsupported).unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.keyword.as_str(), e.reason.as_str()),
            (
                "/oneOf",
                "oneOf",
                "not supported; use anyOf (schemars' own oneOf is rewritten by schema_for)"
            )
        );
    }
    // Any other refused keyword: no advice.
    let e = fit(json!({"not": {}})).unwrap_err();
    assert_eq!(e.reason, "not supported by Bedrock structured outputs");
}
