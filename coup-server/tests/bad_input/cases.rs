//! One bad request ([`Case`]), what is expected of its answer, and sending many.

use futures_util::StreamExt;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::Value;

use crate::common::Server;

/// A request body: its bytes and `Content-Type` (`None`: no body at all).
pub type RawBody = Option<(Vec<u8>, Option<String>)>;

/// One multipart part: (field name, file name, media type, bytes).
pub type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expect {
    /// Exactly this status.
    Status(u16),
    /// Some 4xx.
    Refused,
    /// Anything but a 5xx (odd but well-formed input that may be accepted).
    NoServerError,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub what: String,
    pub method: Method,
    pub path: String,
    pub auth: Option<HeaderValue>,
    pub body: RawBody,
    /// Other request headers.
    pub headers: Vec<(&'static str, &'static str)>,
    pub expect: Expect,
}

/// The code a status must carry (`src/error.rs`, `ops::method_not_allowed`).
pub fn code_for(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "VALIDATION",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        429 => "RATE_LIMITED",
        _ => return None,
    })
}

/// What is wrong with an answer, if anything.
pub fn judge(expect: Expect, status: u16, content_type: &str, bytes: &[u8]) -> Option<String> {
    let status_ok = match expect {
        Expect::Status(s) => status == s,
        Expect::Refused => (400..500).contains(&status),
        Expect::NoServerError => status < 500,
    };
    if !status_ok {
        return Some(format!("expected {expect:?}, got {status}"));
    }
    if status < 400 {
        return None;
    }
    let body: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) => {
            return Some(format!(
                "{status} with a body that is not JSON ({content_type}): {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ));
        }
    };
    let code = body["error"]["code"].as_str().unwrap_or("");
    let shaped = !code.is_empty()
        && code.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        && body["error"]["message"].is_string()
        && content_type.starts_with("application/json");
    if !shaped {
        return Some(format!("{status} without the error shape: {body}"));
    }
    match code_for(status) {
        Some(expected) if expected == code => None,
        Some(expected) => Some(format!("{status} carries {code}, expected {expected}")),
        None => Some(format!("unexpected status {status} ({code})")),
    }
}

pub async fn send(srv: &Server, case: &Case) -> Option<String> {
    let mut req = srv.http.request(case.method.clone(), srv.url(&case.path));
    if let Some(auth) = &case.auth {
        req = req.header(AUTHORIZATION, auth.clone());
    }
    for (name, value) in &case.headers {
        req = req.header(*name, *value);
    }
    if let Some((bytes, content_type)) = &case.body {
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct.as_str());
        }
        req = req.body(bytes.clone());
    }
    let res = match req.send().await {
        Ok(res) => res,
        Err(e) => return Some(format!("transport error: {e}")),
    };
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = match res.bytes().await {
        Ok(b) => b,
        Err(e) => return Some(format!("{status}, then the body failed: {e}")),
    };
    judge(case.expect, status, &content_type, &bytes).map(|problem| {
        format!(
            "{problem}\n      body: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        )
    })
}

/// Sends every case (several at a time) and returns one line per bad answer.
pub async fn run(srv: &Server, cases: &[Case]) -> Vec<String> {
    futures_util::stream::iter(cases)
        .map(|case| async move {
            send(srv, case).await.map(|problem| {
                let path = if case.path.len() > 160 {
                    format!("{}…({} chars)", &case.path[..160], case.path.len())
                } else {
                    case.path.clone()
                };
                format!("{} {path} [{}]: {problem}", case.method, case.what)
            })
        })
        .buffer_unordered(16)
        .filter_map(|x| async move { x })
        .collect()
        .await
}

pub fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("header")
}

pub fn json_body(v: &Value) -> RawBody {
    Some((
        serde_json::to_vec(v).expect("json"),
        Some("application/json".to_owned()),
    ))
}

pub fn raw_body(bytes: &[u8], content_type: Option<&str>) -> RawBody {
    Some((bytes.to_vec(), content_type.map(str::to_owned)))
}
