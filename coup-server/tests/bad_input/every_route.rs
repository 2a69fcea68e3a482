//! Every documented operation gets the whole corpus of bad requests; every answer
//! must be a 4xx in the error shape, and the seeded data must be unchanged.

use std::time::Instant;

use reqwest::Method;
use reqwest::header::HeaderValue;

use crate::cases::{Case, Expect, RawBody, bearer, json_body, raw_body, run};
use crate::inputs::{bad_auth_headers, bad_ids, bad_json_bodies, bad_uploads, good_upload};
use crate::routes::{Input, probes, routes};
use crate::world::{Ids, World, seed, snapshot};

#[tokio::test]
async fn no_input_produces_a_server_error_or_changes_data() {
    let started = Instant::now();
    let w = seed().await;
    let before = snapshot(&w).await;
    let cases = corpus(&w);
    let total = cases.len();
    let mut problems = run(&w.srv, &cases).await;
    problems.sort();

    // The server is still up and answering normally.
    w.srv.get("/api/users/me", Some(&w.owner)).await.ok(200);
    let after = snapshot(&w).await;
    for ((what, a), (_, b)) in before.iter().zip(&after) {
        if a != b {
            problems.push(format!(
                "DATA CHANGED: {what}\n      before: {a}\n      after:  {b}"
            ));
        }
    }
    eprintln!(
        "bad_input: {total} requests in {:.1?} ({} problems)",
        started.elapsed(),
        problems.len()
    );
    assert!(
        problems.is_empty(),
        "{} of {total} bad requests were answered wrongly:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// Every bad request for every route.
fn corpus(w: &World) -> Vec<Case> {
    let real = &w.real;
    let sub_random = real.real_study_only();
    let owner = bearer(&w.owner);
    let admin = bearer(&w.admin);
    let mut cases = Vec::new();
    for route in routes(&w.spec, real) {
        let sample_body = match route.input {
            Input::Nothing => None,
            Input::Json | Input::OptionalJson => json_body(&route.sample),
            Input::Multipart => good_upload(),
        };
        let mut push = |what: String, path: String, auth: Option<HeaderValue>, body, expect| {
            cases.push(Case {
                what,
                method: route.method.clone(),
                path,
                auth,
                body,
                headers: Vec::new(),
                expect,
            });
        };
        // Callers whose token gets the request past authentication: the owner, and
        // for admin routes the SYSTEM_ADMIN; also nobody.
        let mut callers: Vec<(&str, Option<HeaderValue>)> =
            vec![("anonymous", None), ("owner", Some(owner.clone()))];
        if route.is_admin() {
            callers.push(("admin", Some(admin.clone())));
        }
        let real_path = route.with_query(real.fill(&route.path), route.good_query);

        // 1. Credentials: missing, forged, malformed. Everything else is well formed
        //    and names real things, so only authentication stands in the way.
        if route.reads_auth {
            for (what, header) in bad_auth_headers(&w.owner) {
                push(
                    what.into(),
                    real_path.clone(),
                    Some(header),
                    sample_body.clone(),
                    Expect::Status(401),
                );
            }
            if !route.anonymous_ok {
                push(
                    "anonymous".into(),
                    real_path.clone(),
                    None,
                    sample_body.clone(),
                    Expect::Status(401),
                );
            }
        }
        if route.is_admin() {
            push(
                "not an admin".into(),
                real_path.clone(),
                Some(owner.clone()),
                sample_body.clone(),
                Expect::Status(403),
            );
        }

        // 2. Bodies. The study is real, everything below it random, so a body that
        //    slipped through would still find nothing to change.
        let body_path = route.with_query(sub_random.fill(&route.path), route.good_query);
        let bodies: Vec<(String, RawBody, Expect)> = match route.input {
            Input::Nothing => Vec::new(),
            Input::Json => bad_json_bodies(&route.sample, false),
            Input::OptionalJson => bad_json_bodies(&route.sample, true),
            Input::Multipart => bad_uploads()
                .into_iter()
                .map(|(what, body)| (what, body, Expect::Refused))
                .collect(),
        };
        for (what, body, expect) in bodies {
            for (who, auth) in &callers {
                push(
                    format!("{what}, {who}"),
                    body_path.clone(),
                    auth.clone(),
                    body.clone(),
                    expect,
                );
            }
        }

        // 3. Path ids that are not ids, one slot at a time.
        for slot in route.slots() {
            for bad in bad_ids() {
                let path = route.with_query(
                    sub_random.fill_but(&route.path, Some(slot), &bad),
                    route.good_query,
                );
                for (who, auth) in &callers {
                    let what = format!(
                        "{slot} = {}, {who}",
                        if bad.len() > 40 { "2000 × a" } else { &bad }
                    );
                    push(
                        what,
                        path.clone(),
                        auth.clone(),
                        sample_body.clone(),
                        Expect::Refused,
                    );
                }
            }
        }

        // 4. Well-formed ids of things that do not exist.
        let slots = route.slots();
        if !slots.is_empty() {
            let (who, auth) = if route.is_admin() {
                ("admin", &admin)
            } else {
                ("owner", &owner)
            };
            let path = route.with_query(Ids::random().fill(&route.path), route.good_query);
            push(
                format!("random ids, {who}"),
                path,
                Some(auth.clone()),
                sample_body.clone(),
                Expect::Status(404),
            );
            if slots.len() > 1 && slots.contains(&"{study}") {
                push(
                    format!("real study, random {}, {who}", slots[1]),
                    body_path.clone(),
                    Some(auth.clone()),
                    sample_body.clone(),
                    Expect::Status(404),
                );
            }
        }

        // 5. Query strings.
        let query_base = sub_random.fill(&route.path);
        for q in &route.bad_queries {
            for (who, auth) in &callers {
                // Values that parse but make no sense are judged by the operation,
                // after the permission check: anonymous callers may get 401 first.
                let expect = if auth.is_some() {
                    Expect::Status(400)
                } else {
                    Expect::Refused
                };
                push(
                    format!("?{q}, {who}"),
                    format!("{query_base}?{q}"),
                    auth.clone(),
                    sample_body.clone(),
                    expect,
                );
            }
        }
        for q in &route.odd_queries {
            let (who, auth) = callers.last().expect("a caller");
            push(
                format!("?{q}, {who} (odd but well formed)"),
                format!("{query_base}?{q}"),
                auth.clone(),
                sample_body.clone(),
                Expect::NoServerError,
            );
        }
    }

    // The probes ignore credentials and bodies.
    let probes = probes(&w.spec);
    assert_eq!(probes.len(), 3, "{probes:?}");
    for path in probes {
        for (what, header) in bad_auth_headers(&w.owner).into_iter().take(3) {
            cases.push(Case {
                what: format!("{what} to a probe"),
                method: Method::GET,
                path: path.clone(),
                auth: Some(header),
                body: raw_body(b"{", Some("application/json")),
                headers: Vec::new(),
                expect: Expect::Status(200),
            });
        }
    }
    // So do the OpenAPI document and the Swagger UI.
    for path in ["/api/openapi.json", "/api/docs/", "/api/docs/index.html"] {
        for (what, header) in bad_auth_headers(&w.owner).into_iter().take(3) {
            cases.push(Case {
                what: format!("{what} to the API docs"),
                method: Method::GET,
                path: format!("{path}?page=-1&x=%ZZ"),
                auth: Some(header),
                body: None,
                headers: Vec::new(),
                expect: Expect::Status(200),
            });
        }
    }
    // The real-time gateway (`GET /ws`, lib.rs) refuses anything that is not a
    // WebSocket handshake.
    let not_handshakes: [(&str, Vec<(&'static str, &'static str)>); 4] = [
        ("plain GET", vec![]),
        ("Upgrade without Connection", vec![("upgrade", "websocket")]),
        (
            "wrong WebSocket version",
            vec![
                ("connection", "Upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "99"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
        ),
        (
            "no WebSocket key",
            vec![
                ("connection", "Upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "13"),
            ],
        ),
    ];
    for (what, headers) in not_handshakes {
        for (who, auth) in [
            ("anonymous", None),
            ("owner", Some(bearer(&w.owner))),
            ("forged token", Some(bearer("forged"))),
        ] {
            cases.push(Case {
                what: format!("{what}, {who}"),
                method: Method::GET,
                path: "/ws".into(),
                auth,
                body: None,
                headers: headers.clone(),
                expect: Expect::Refused,
            });
        }
    }
    cases
}
