//! The bad inputs themselves: credentials, ids, JSON bodies and multipart uploads.

use reqwest::header::HeaderValue;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cases::{Expect, Part, RawBody, json_body, raw_body};

pub const HUGE: usize = 100 * 1024;

/// Authorization headers that must be refused with 401.
pub fn bad_auth_headers(owner: &str) -> Vec<(&'static str, HeaderValue)> {
    let forged: String = (0..64)
        .map(|i| b"0123456789abcdef"[i % 16] as char)
        .collect();
    let h = |s: &str| HeaderValue::from_str(s).expect("header");
    vec![
        ("forged bearer token", h(&format!("Bearer {forged}"))),
        ("tampered real token", h(&format!("Bearer {owner}x"))),
        (
            "lower-case forged bearer",
            h(&format!("bearer {}", Uuid::new_v4())),
        ),
        ("Bearer with no token", h("Bearer")),
        ("Bearer and spaces", h("Bearer    ")),
        ("Basic credentials", h("Basic dXNlcjpwYXNzd29yZA==")),
        ("unknown scheme", h(&format!("Token {owner}"))),
        ("doubled scheme", h(&format!("Bearer Bearer {owner}"))),
        ("token with spaces", h("Bearer a b c")),
        ("over-long token", h(&format!("Bearer {}", "x".repeat(300)))),
        ("huge token", h(&format!("Bearer {}", "x".repeat(20_000)))),
        (
            "non-UTF-8 header bytes",
            HeaderValue::from_bytes(b"Bearer \xff\xfe\xfd").expect("obs-text header"),
        ),
    ]
}

/// Path ids that are not ids.
pub fn bad_ids() -> Vec<String> {
    vec![
        "nope".into(),
        "..%2F..%2Fetc%2Fpasswd".into(),
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd".into(),
        "%00".into(),
        "%FF".into(),
        "-1".into(),
        "0".into(),
        "00000000-0000-0000-0000-00000000000g".into(),
        format!("{}-", Uuid::new_v4()),
        "%F0%9F%98%80".into(),
        "%20".into(),
        "a".repeat(2000),
    ]
}

/// A value of the wrong JSON type for each kind of field.
pub fn wrong_types(v: &Value) -> Vec<Value> {
    match v {
        Value::String(_) => vec![json!(12345), json!({"$ne": null}), json!(true)],
        Value::Bool(_) => vec![json!("yes"), json!(1)],
        Value::Number(_) => vec![
            json!("ten"),
            json!(1.5),
            json!(99_999_999_999u64),
            json!(-1),
        ],
        Value::Array(_) => vec![json!("x"), json!([1, 2])],
        Value::Object(_) => vec![json!(1)],
        Value::Null => vec![],
    }
}

pub fn huge_of(v: &Value) -> Option<Value> {
    let huge = "a".repeat(HUGE);
    match v {
        Value::String(_) => Some(json!(huge)),
        Value::Array(items) if items.iter().all(Value::is_string) => Some(json!([huge])),
        _ => None,
    }
}

/// Bodies a JSON route must refuse: (what, body, exactly 400?).
pub fn bad_json_bodies(sample: &Value, optional: bool) -> Vec<(String, RawBody, Expect)> {
    let json_ct = Some("application/json");
    let invalid = Expect::Status(400);
    // An optional body may be absent (empty or `null`), so these parse as "no
    // options" and reach the handler: any refusal will do.
    let absent = if optional {
        Expect::Refused
    } else {
        Expect::Status(400)
    };
    let sample_bytes = serde_json::to_vec(sample).expect("json");
    let obj = sample.as_object().expect("samples are objects");
    let first_key = obj.keys().next().expect("a field").clone();
    let first_value = serde_json::to_string(&obj[&first_key]).expect("json");
    let rest = String::from_utf8(sample_bytes.clone()).expect("utf8");
    let duplicate = format!("{{\"{first_key}\":{first_value},{}", &rest[1..]);
    let nested = format!(
        "{{\"{first_key}\":{}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let mut out = vec![
        (
            "malformed JSON `{`".to_owned(),
            raw_body(b"{", json_ct),
            invalid,
        ),
        (
            "truncated JSON".to_owned(),
            raw_body(&sample_bytes[..sample_bytes.len() / 2], json_ct),
            invalid,
        ),
        ("empty body".to_owned(), raw_body(b"", json_ct), absent),
        ("no body at all".to_owned(), None, absent),
        ("JSON null".to_owned(), raw_body(b"null", json_ct), absent),
        ("JSON array".to_owned(), raw_body(b"[]", json_ct), invalid),
        (
            "array of the sample".to_owned(),
            raw_body(format!("[{rest}]").as_bytes(), json_ct),
            invalid,
        ),
        (
            "JSON string".to_owned(),
            raw_body(b"\"hello\"", json_ct),
            invalid,
        ),
        ("JSON number".to_owned(), raw_body(b"42", json_ct), invalid),
        (
            "trailing garbage".to_owned(),
            raw_body(format!("{rest} x").as_bytes(), json_ct),
            invalid,
        ),
        (
            "two documents".to_owned(),
            raw_body(format!("{rest}{rest}").as_bytes(), json_ct),
            invalid,
        ),
        (
            "invalid UTF-8".to_owned(),
            raw_body(b"{\"a\":\"\xff\xfe\"}", json_ct),
            invalid,
        ),
        (
            "lone surrogate".to_owned(),
            raw_body(
                format!("{{\"{first_key}\":\"\\ud800\"}}").as_bytes(),
                json_ct,
            ),
            invalid,
        ),
        // `OptionalJson` reads a `serde_json::Value` first, where the last of two
        // equal keys wins; `Json` refuses them.
        (
            "duplicate field".to_owned(),
            raw_body(duplicate.as_bytes(), json_ct),
            absent,
        ),
        (
            "5000-deep nesting".to_owned(),
            raw_body(nested.as_bytes(), json_ct),
            invalid,
        ),
        (
            "sample as text/plain".to_owned(),
            raw_body(&sample_bytes, Some("text/plain")),
            absent,
        ),
        (
            "sample without Content-Type".to_owned(),
            raw_body(&sample_bytes, None),
            absent,
        ),
        (
            "sample as form data".to_owned(),
            raw_body(b"name=x&title=y", Some("application/x-www-form-urlencoded")),
            if optional { Expect::Refused } else { invalid },
        ),
    ];
    let mut unknown = obj.clone();
    unknown.insert("bogus".into(), json!(1));
    out.push((
        "unknown field".into(),
        json_body(&Value::Object(unknown)),
        invalid,
    ));
    let mut snake = obj.clone();
    snake.insert("is_admin".into(), json!(true));
    out.push((
        "unknown snake_case field".into(),
        json_body(&Value::Object(snake)),
        invalid,
    ));
    for (key, value) in obj {
        for wrong in wrong_types(value) {
            let mut body = obj.clone();
            body.insert(key.clone(), wrong.clone());
            out.push((
                format!("{key} = {wrong}"),
                json_body(&Value::Object(body)),
                invalid,
            ));
        }
        if let Some(huge) = huge_of(value) {
            let mut body = obj.clone();
            body.insert(key.clone(), huge);
            out.push((
                format!("{key} = 100 KB string"),
                json_body(&Value::Object(body)),
                Expect::Refused,
            ));
        }
    }
    out
}

pub const BOUNDARY: &str = "coupTestBoundary7MA4YWxk";

pub fn multipart(parts: &[Part], close: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file_name, media, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(f) = file_name {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        out.extend_from_slice(format!("{disposition}\r\n").as_bytes());
        if let Some(m) = media {
            out.extend_from_slice(format!("Content-Type: {m}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    }
    out
}

pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

pub fn good_upload() -> RawBody {
    Some((
        multipart(
            &[("file", Some("a.txt"), Some("text/plain"), b"hello")],
            true,
        ),
        Some(multipart_type()),
    ))
}

/// Uploads that must be refused without storing anything.
pub fn bad_uploads() -> Vec<(String, RawBody)> {
    let mp = Some(multipart_type());
    let long_name = "a".repeat(300);
    // A media type that parses but is too long to keep. (One that does not parse
    // is ignored: the file is stored as application/octet-stream.)
    let long_type = format!("text/{}", "a".repeat(300));
    let b = |parts: &[Part], close: bool| Some((multipart(parts, close), mp.clone()));
    vec![
        ("no body, no Content-Type".into(), None),
        (
            "a JSON body".into(),
            raw_body(b"{\"file\":\"x\"}", Some("application/json")),
        ),
        (
            "multipart without a boundary".into(),
            raw_body(
                &multipart(&[("file", Some("a.txt"), None, b"x")], true),
                Some("multipart/form-data"),
            ),
        ),
        (
            "multipart with another boundary".into(),
            raw_body(
                &multipart(&[("file", Some("a.txt"), None, b"x")], true),
                Some("multipart/form-data; boundary=other"),
            ),
        ),
        (
            "garbage multipart".into(),
            raw_body(b"hello", mp.as_deref()),
        ),
        ("empty multipart".into(), raw_body(b"", mp.as_deref())),
        (
            "no `file` field".into(),
            b(&[("other", Some("a.txt"), None, b"x")], true),
        ),
        (
            "only a text field".into(),
            b(&[("note", None, None, b"x")], true),
        ),
        (
            "file named `..`".into(),
            b(&[("file", Some(".."), None, b"x")], true),
        ),
        (
            "file named ``".into(),
            b(&[("file", Some(""), None, b"x")], true),
        ),
        (
            "file named `dir/`".into(),
            b(&[("file", Some("dir/"), None, b"x")], true),
        ),
        (
            "300-character file name".into(),
            b(&[("file", Some(&long_name), None, b"x")], true),
        ),
        (
            "300-character media type".into(),
            b(&[("file", Some("a.txt"), Some(&long_type), b"x")], true),
        ),
        (
            "truncated multipart".into(),
            b(&[("file", Some("a.txt"), None, b"x")], false),
        ),
    ]
}
