//! How a call's reservation is settled once its result is known: by the
//! tokens its reply (or the partial reply of its error) used, and with the
//! limiter told of a throttle.

use super::{Limiter, Reservation, TokensUsed};
use crate::error::Error;
use crate::model::Response;

/// The tokens a reply used, as the quota counts them (input plus cache
/// writes; output unweighted, the limiter weighs it).
fn usage_of(response: &Response) -> Option<TokensUsed> {
    response.usage.map(|u| TokensUsed {
        input_tokens: u
            .input_tokens
            .saturating_add(u.cache_write_input_tokens.unwrap_or(0)),
        output_tokens: u.output_tokens,
    })
}

/// Corrects `reservation` by what the call used, and tells the limiter
/// whether the service throttled it.
pub(crate) fn settle(
    limiter: &Limiter,
    reservation: Reservation,
    result: &Result<Response, Error>,
) {
    settle_ref(limiter, reservation, result.as_ref());
}

/// [`settle`], for a result held by reference.
pub(crate) fn settle_ref(
    limiter: &Limiter,
    reservation: Reservation,
    result: Result<&Response, &Error>,
) {
    match result {
        Ok(response) => {
            limiter.settle_now(reservation, usage_of(response));
            limiter.on_success_now();
        }
        Err(e) => {
            if e.is_throttling() {
                log::info!("bedrock-converse: throttled; pacing calls more slowly");
                limiter.on_throttled_now(reservation.admitted_at());
            }
            limiter.settle_now(reservation, e.partial_response().and_then(usage_of));
        }
    }
}
