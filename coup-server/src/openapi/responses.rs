//! The error responses that `#[utoipa::path(responses(...))]` lists: each is its
//! status with the API's error body, and the sets that operations share are one
//! name each ([`SessionErrors`], [`InputErrors`], [`TargetErrors`],
//! [`StateErrors`]). 408, 500 and 503 (and 413 for a body) apply to every
//! operation and are added by `modifiers::CommonResponses`.

use std::collections::BTreeMap;

use coup_core::error::ErrorBody;
use utoipa::IntoResponses;
use utoipa::openapi::RefOr;
use utoipa::openapi::response::Response;

/// `VALIDATION`: the body, a path or query parameter, or one field is invalid.
#[derive(IntoResponses)]
#[response(status = 400)]
pub struct BadRequest(pub ErrorBody);

/// `UNAUTHORIZED`: no valid session (missing, malformed, expired or revoked token),
/// or wrong credentials.
#[derive(IntoResponses)]
#[response(status = 401)]
pub struct Unauthorized(pub ErrorBody);

/// `FORBIDDEN`: the caller may not do this (role, ownership, or a suspended account).
#[derive(IntoResponses)]
#[response(status = 403)]
pub struct Forbidden(pub ErrorBody);

/// `NOT_FOUND`: no such thing, or one the caller may not know exists (a private study).
#[derive(IntoResponses)]
#[response(status = 404)]
pub struct NotFound(pub ErrorBody);

/// `CONFLICT`: the current state does not allow this (a duplicate, a full study,
/// the wrong membership state).
#[derive(IntoResponses)]
#[response(status = 409)]
pub struct Conflict(pub ErrorBody);

/// `PAYLOAD_TOO_LARGE`: the body or file is larger than allowed.
#[derive(IntoResponses)]
#[response(status = 413)]
pub struct PayloadTooLarge(pub ErrorBody);

/// `RATE_LIMITED`: too many attempts; retry after the given number of seconds.
#[derive(IntoResponses)]
#[response(
    status = 429,
    headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))
)]
pub struct RateLimited(pub ErrorBody);

/// Declares a set of the responses above, listed as one name.
macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident = $($part:ident),+) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let mut all = BTreeMap::new();
                $(all.extend(<$part as IntoResponses>::responses());)+
                all
            }
        }
    };
}

error_set!(
    /// 401 and 403: what any operation with a session can answer.
    SessionErrors = Unauthorized,
    Forbidden
);

error_set!(
    /// 400, 401 and 403: an operation with input.
    InputErrors = BadRequest,
    Unauthorized,
    Forbidden
);

error_set!(
    /// 400, 401, 403 and 404: an operation on a thing that may not exist.
    TargetErrors = BadRequest,
    Unauthorized,
    Forbidden,
    NotFound
);

error_set!(
    /// 400, 401, 403, 404 and 409: an operation that its target's state may refuse.
    StateErrors = BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_holds_exactly_its_parts() {
        let statuses = |r: BTreeMap<String, _>| r.into_keys().collect::<Vec<_>>();
        assert_eq!(statuses(SessionErrors::responses()), ["401", "403"]);
        assert_eq!(statuses(InputErrors::responses()), ["400", "401", "403"]);
        assert_eq!(
            statuses(TargetErrors::responses()),
            ["400", "401", "403", "404"]
        );
        assert_eq!(
            statuses(StateErrors::responses()),
            ["400", "401", "403", "404", "409"]
        );
        assert!(StateErrors::responses()["404"] == NotFound::responses()["404"]);
    }
}
