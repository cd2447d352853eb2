//! What errors mean to the router: which move a call to the next target,
//! which cool a target down, and which one a moved call ends with.

use crate::error::{Error, ServiceErrorKind};

/// Whether an error that arrived before anything was delivered moves a call
/// to the next target: throttling, unavailable, model not ready, or any
/// server error (5xx). A client error (a 400 such as a validation error,
/// access denied, an unknown model) never does.
pub(super) fn moves(error: &Error) -> bool {
    use ServiceErrorKind::{InternalServer, ModelNotReady, ServiceUnavailable, Throttling};
    let Some(service) = error.as_service() else {
        return false;
    };
    matches!(
        service.kind,
        Throttling | ServiceUnavailable | ModelNotReady | InternalServer
    ) || service.status.is_some_and(|s| s >= 500)
}

/// The error a call ends with when its last attempt failed with `last`
/// after an earlier one had moved it on with `earlier` (a throttle, say).
/// When the last target refused the call outright (a client error from the
/// service, or a request it cannot take, with nothing delivered), the
/// earlier error is kept: the refusal may be that target's alone (a model
/// not enabled in its Region), while the call may still succeed where it
/// was first throttled, and a caller that retries throttles (a `Batch`)
/// should retry it. The refusal is logged. Otherwise `last`.
pub(crate) fn ending_error(earlier: Option<Error>, last: Error) -> Error {
    let refused = last.partial_response().is_none()
        && !moves(&last)
        && (last.as_service().is_some() || matches!(last, Error::InvalidRequest { .. }));
    match earlier {
        Some(earlier) if refused => {
            log::warn!(
                "bedrock-converse: the last target refused a call that an earlier target could not take now ({last}); the call ends with the earlier error: {earlier}"
            );
            earlier
        }
        _ => last,
    }
}

/// Whether an error says the target has no capacity now (it cools down).
pub(super) fn capacity(error: &Error) -> bool {
    use ServiceErrorKind::{ModelNotReady, ServiceUnavailable, Throttling};
    matches!(
        error.service_kind(),
        Some(Throttling | ServiceUnavailable | ModelNotReady)
    )
}
