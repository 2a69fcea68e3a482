//! The commands on Tauri's mock runtime (no display, no webview): arguments are
//! parsed as the UI sends them, errors come back as `{code, reason, message,
//! status}`, and the remembered server survives a restart of the state.

use std::sync::{Arc, Mutex};

use coup_core::client::FileSessionStore;
use coup_desktop::AppState;
use coup_desktop::tokens::TokenStoreKind;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Harness {
    _app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    _dir: tempfile::TempDir,
}

fn harness_in(dir: tempfile::TempDir) -> Harness {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let state = AppState::with_sessions(
        dir.path().to_path_buf(),
        Arc::new(FileSessionStore::beside(&dir.path().join("cache.db"))),
        TokenStoreKind::File,
        Arc::new(move |event| {
            if let Ok(mut all) = seen.lock() {
                all.push(serde_json::to_value(event).unwrap_or(Value::Null));
            }
        }),
    );
    let app = coup_desktop::app(mock_builder().manage(state))
        .build(mock_context(noop_assets()))
        .expect("app");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("window");
    Harness {
        _app: app,
        window,
        _dir: dir,
    }
}

fn harness() -> Harness {
    harness_in(tempfile::tempdir().expect("temp dir"))
}

fn invoke(h: &Harness, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(&h.window, request).map(|body| body.deserialize::<Value>().expect("json"))
}

#[test]
fn app_info_before_sign_in_names_the_token_store_and_no_server() {
    let h = harness();
    let info = invoke(&h, "app_info", json!({})).expect("app_info");
    assert_eq!(info["server"], Value::Null);
    assert_eq!(info["tokenStore"], "file");
    assert_eq!(
        invoke(&h, "restore", json!({})).expect("restore"),
        Value::Null
    );
}

#[test]
fn launched_answers_the_process_age_in_ms() {
    let h = harness();
    let ms = invoke(&h, "launched", json!({}))
        .expect("launched")
        .as_u64()
        .expect("a number of ms");
    assert!(ms < 24 * 3600 * 1000, "{ms} ms");
}

#[test]
fn commands_that_need_a_client_say_not_signed_in() {
    let h = harness();
    for (cmd, args) in [
        ("studies", json!({})),
        (
            "messages",
            json!({"studyId": "7f1f4f7e-3c1e-4c55-9d7e-1d2c3b4a5f60", "limit": 20}),
        ),
        (
            "send_message",
            json!({"studyId": "7f1f4f7e-3c1e-4c55-9d7e-1d2c3b4a5f60", "content": "hi"}),
        ),
        ("connection_state", json!({})),
    ] {
        let error = invoke(&h, cmd, args).expect_err(cmd);
        assert_eq!(error["code"], "NOT_SIGNED_IN", "{cmd}: {error}");
        assert_eq!(error["status"], Value::Null);
    }
    // Signing out without a session is fine.
    invoke(&h, "logout", json!({})).expect("logout");
}

#[test]
fn a_server_that_does_not_answer_is_unavailable_in_words_the_ui_maps() {
    let h = harness();
    let error = invoke(
        &h,
        "login",
        json!({"server": "http://127.0.0.1:9", "email": "kim@example.com", "password": "study-together-42"}),
    )
    .expect_err("nothing listens on port 9");
    assert_eq!(error["code"], "UNAVAILABLE", "{error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    // A failed sign-in remembers nothing.
    assert_eq!(
        invoke(&h, "app_info", json!({})).expect("info")["server"],
        Value::Null
    );
}

#[test]
fn malformed_arguments_are_refused_before_the_client_is_called() {
    let h = harness();
    let error = invoke(
        &h,
        "messages",
        json!({"studyId": "not-a-uuid", "limit": 20}),
    )
    .expect_err("bad id");
    // Tauri's own argument error (a string), never a panic.
    assert!(error.is_string() || error.is_object(), "{error}");
}

#[test]
fn the_remembered_server_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = AppState::with_sessions(
        dir.path().to_path_buf(),
        Arc::new(FileSessionStore::beside(&dir.path().join("cache.db"))),
        TokenStoreKind::File,
        Arc::new(|_| {}),
    );
    state
        .remember_server("http://127.0.0.1:8080/")
        .expect("remember");
    drop(state);
    let h = harness_in(dir);
    let info = invoke(&h, "app_info", json!({})).expect("info");
    assert_eq!(info["server"], "http://127.0.0.1:8080");
    // No session is saved for it: restore finds none (and does not hang offline).
    assert_eq!(
        invoke(&h, "restore", json!({})).expect("restore"),
        Value::Null
    );
}
