//! Helpers shared by several test binaries. Each binary uses only part of
//! this module, hence the `dead_code` allowance.
#![allow(dead_code)]

use bedrock_converse::{Error, TimeoutKind};

/// Asserts that `err` is an [`Error::Timeout`] of the given kind.
#[track_caller]
pub fn assert_timeout(err: &Error, kind: TimeoutKind) {
    assert!(
        matches!(err, Error::Timeout { kind: k, .. } if *k == kind),
        "{err:?}"
    );
}
