//! The types an application receives from the client — [`AppEvent`], the outbox,
//! calls, connection states — as an OpenAPI components document (feature
//! `openapi`). The UI's TypeScript for them (`ui/src/app.gen.ts`) is generated
//! from `ui/src/app-types.json` by `ui/e2e-browser/api-types.mjs`, as its REST
//! types are from the server's document, so the desktop app's events and the
//! screens that read them cannot drift apart. The test below fails when the
//! JSON differs from what these types give (`COUP_BLESS=1` rewrites it).

use utoipa::OpenApi;

use super::calls::JoinedCall;
use super::events::{AppEvent, ConnectionState, Signal, StudyGoneReason};
use super::outbox::{OutboxAction, OutboxItem, OutboxState, Sent, TaskRef};
use crate::error::{ErrorCode, Reason};
use crate::realtime::calls::{MediaState, Participant};
use crate::realtime::protocol::{IceServer, MembershipChange};

/// The document: every type an app event can carry, with what they refer to.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CoUp client app types",
        description = "What coup_core::client tells an application."
    ),
    components(schemas(
        AppEvent,
        ConnectionState,
        ErrorCode,
        IceServer,
        JoinedCall,
        MediaState,
        MembershipChange,
        OutboxAction,
        OutboxItem,
        OutboxState,
        Participant,
        Reason,
        Sent,
        Signal,
        StudyGoneReason,
        TaskRef,
    ))
)]
pub struct AppTypes;

/// The document as `ui/src/app-types.json` holds it.
pub fn document() -> String {
    let mut json = AppTypes::openapi()
        .to_pretty_json()
        .expect("an OpenAPI document serializes");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn the_ui_holds_the_current_app_types() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/app-types.json");
        let fresh = super::document();
        if std::env::var_os("COUP_BLESS").is_some() {
            std::fs::write(&path, &fresh).expect("write the app types");
            return;
        }
        let held = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            held == fresh,
            "{} differs from the client's types: run `COUP_BLESS=1 cargo test -p coup-core \
             --features client,openapi the_ui_holds_the_current_app_types`, then \
             `node ui/e2e-browser/api-types.mjs`, and commit both",
            path.display()
        );
    }
}
