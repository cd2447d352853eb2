//! A newer catalogue loaded at run time and installed becomes the one every
//! check consults. Its own test binary: the installed catalogue is
//! process-wide.

use bedrock_converse::model::catalogue::{Capability, Catalogue};
use bedrock_converse::{ConverseRequest, Error};

#[test]
fn an_installed_catalogue_is_the_one_validation_consults() {
    let model = "example.newfamily-v1:0";
    let two_users = ConverseRequest::new(model).user("a").user("b");
    assert!(
        two_users.validate().is_ok(),
        "a family not known is left to the service"
    );
    assert_eq!(
        Catalogue::current().supports(model, Capability::Streaming),
        None
    );

    let dir = std::env::temp_dir().join(format!("bc-catalogue-install-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("models.json");
    std::fs::write(
        &path,
        r#"{"format": 1, "date": "2027-01-01",
            "sources": {"s": {"title": "A newer page", "url": "https://example.com", "read": "2027-01-01"}},
            "families": [{"prefix": "example.newfamily", "alternation": {"value": true, "source": "s"}}],
            "models": [{"id": "example.newfamily-v1:0", "name": "New",
                        "capabilities": {"source": "s", "streaming": false}}]}"#,
    )
    .unwrap();
    Catalogue::load(&path).unwrap().install();
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(Catalogue::current().date, "2027-01-01");
    assert_eq!(
        Catalogue::current().supports(model, Capability::Streaming),
        Some(false)
    );
    let err = two_users.validate().unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, .. } if field == "messages[1].role"),
        "{err:?}"
    );
    // The bundled catalogue is still there to fall back on.
    assert!(Catalogue::bundled()
        .model("amazon.nova-lite-v1:0")
        .is_some());
    assert!(Catalogue::current()
        .model("amazon.nova-lite-v1:0")
        .is_none());
}
