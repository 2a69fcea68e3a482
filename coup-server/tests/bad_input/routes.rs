//! The operations under test, read from the OpenAPI document the server serves, so
//! a new route is in the corpus the day it is registered. What the document cannot
//! say is kept here by what it names: a well-formed body per request schema, and
//! the query strings to try per set of query parameters. A schema or parameter set
//! without an entry fails the test, and so does an entry nothing uses.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::world::Ids;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input {
    Nothing,
    /// A required JSON body (`Json<T>`).
    Json,
    /// An optional JSON body (`OptionalJson<T>`): an empty body means "no options".
    OptionalJson,
    /// `multipart/form-data` with a `file` field.
    Multipart,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    /// The path template with the slots of [`Ids`] (`{study}`, `{user}`, ...).
    pub path: String,
    pub input: Input,
    /// A well-formed body (what a real client would send).
    pub sample: Value,
    /// A query the route needs to get past its `Query` extractor.
    pub good_query: &'static str,
    /// Query strings the `Query` extractor or the operation must refuse.
    pub bad_queries: Vec<String>,
    /// Odd but well-formed query strings: any answer but a 5xx.
    pub odd_queries: Vec<String>,
    /// Anonymous callers may succeed (listing and viewing public studies, signup,
    /// login): no "anonymous is refused" case.
    pub anonymous_ok: bool,
    /// The handler reads the `Authorization` header (all but signup and login).
    pub reads_auth: bool,
}

impl Route {
    pub fn is_admin(&self) -> bool {
        self.path.starts_with("/api/admin")
    }

    pub fn slots(&self) -> Vec<&'static str> {
        Ids::SLOTS
            .into_iter()
            .filter(|s| self.path.contains(s))
            .collect()
    }

    pub fn with_query(&self, path: String, query: &str) -> String {
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }
}

/// The slot of [`Ids`] that a path parameter of each id schema fills.
const SLOT_OF_SCHEMA: [(&str, &str); 9] = [
    ("StudyId", "{study}"),
    ("UserId", "{user}"),
    ("NoticeId", "{notice}"),
    ("EventId", "{event}"),
    ("MessageId", "{message}"),
    ("FileId", "{file}"),
    ("TaskId", "{task}"),
    ("NotificationId", "{notification}"),
    ("ReportId", "{report}"),
];

const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// `(method, template, operation)` of every operation under `/api/` in `spec`.
pub fn operations(spec: &Value) -> Vec<(Method, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/") {
            continue;
        }
        for method in METHODS {
            if let Some(op) = item.get(method.as_str().to_lowercase()) {
                out.push((method, path.clone(), op));
            }
        }
    }
    out
}

/// The paths of the operations tagged `ops` (the probes).
pub fn probes(spec: &Value) -> Vec<String> {
    let paths = spec["paths"].as_object().expect("paths");
    paths
        .iter()
        .filter(|(_, item)| item["get"]["tags"] == json!(["ops"]))
        .map(|(path, _)| path.clone())
        .collect()
}

/// `path` with each `{parameter}` replaced by the slot its schema names.
pub fn slotted(path: &str, op: &Value) -> String {
    let mut out = path.to_owned();
    for param in op["parameters"].as_array().into_iter().flatten() {
        if param["in"] != "path" {
            continue;
        }
        let name = param["name"].as_str().expect("parameter name");
        let schema = schema_name(&param["schema"])
            .unwrap_or_else(|| panic!("{path}: {{{name}}} names no id schema"));
        let slot = SLOT_OF_SCHEMA
            .iter()
            .find(|(s, _)| *s == schema)
            .unwrap_or_else(|| panic!("{path}: no slot for the id schema {schema}"))
            .1;
        out = out.replace(&format!("{{{name}}}"), slot);
    }
    assert!(
        !out.contains('{') || Ids::SLOTS.iter().any(|s| out.contains(s)),
        "{path}: undeclared path parameters"
    );
    out
}

/// The name a schema refers to (`$ref`, also inside `oneOf`/`allOf`), if any.
fn schema_name(schema: &Value) -> Option<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().map(str::to_owned);
    }
    ["oneOf", "allOf", "anyOf"]
        .iter()
        .flat_map(|k| schema[*k].as_array().into_iter().flatten())
        .find_map(schema_name)
}

/// What a route's query strings are tried with.
struct Queries {
    good: &'static str,
    bad: Vec<String>,
    odd: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn plus(a: &[String], b: &[&str]) -> Vec<String> {
    a.iter().cloned().chain(strings(b)).collect()
}

/// The query strings per set of query parameter names (sorted).
fn query_corpus() -> BTreeMap<Vec<&'static str>, Queries> {
    let page_bad = strings(&[
        "page=-1",
        "limit=abc",
        "page=1.5",
        "page=99999999999",
        "limit=-5",
        "limit=",
        "page=1&page=2",
        "page=%ZZ",
    ]);
    let page_odd = strings(&[
        "page=4294967295&limit=100",
        "page=0&limit=0",
        "limit=4294967295",
        "page=2&limit=1&unknown=1",
    ]);
    let long_keyword = format!("keyword={}", "a".repeat(101));
    let random_study = format!("studyId={}", Uuid::new_v4());
    let q = |good, bad, odd| Queries { good, bad, odd };
    BTreeMap::from([
        (vec![], q("", Vec::new(), Vec::new())),
        (
            vec!["limit", "page"],
            q("", page_bad.clone(), page_odd.clone()),
        ),
        (
            vec![
                "category",
                "keyword",
                "limit",
                "page",
                "recruiting",
                "sort",
                "tag",
            ],
            q(
                "",
                plus(
                    &page_bad,
                    &[
                        "sort=WHATEVER",
                        "sort=newest",
                        "recruiting=maybe",
                        "keyword=%00",
                        long_keyword.as_str(),
                    ],
                ),
                plus(
                    &page_odd,
                    &[
                        "keyword=%25_%5C",
                        "category=%00",
                        "tag=%F0%9F%98%80",
                        "sort=MEMBERS&recruiting=false",
                    ],
                ),
            ),
        ),
        (
            vec!["from", "to"],
            q(
                "from=2029-06-01T00:00:00Z&to=2030-06-01T00:00:00Z",
                strings(&[
                    "",
                    "page=1",
                    "from=notadate&to=2030-01-01T00:00:00Z",
                    "from=2030-01-01T00:00:00Z&to=notadate",
                    "from=2030-01-01T00:00:00Z",
                    "from=2030-02-30T00:00:00Z&to=2030-03-01T00:00:00Z",
                    "from=2030-02-01T00:00:00Z&to=2030-01-01T00:00:00Z",
                    "from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
                    "from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
                    "from=-262143-01-01T00:00:00Z&to=%2B262142-12-31T23:59:59Z",
                    "from=1700000000&to=1800000000",
                ]),
                strings(&[
                    "from=%2B262142-12-01T00:00:00Z&to=%2B262142-12-31T23:59:59Z",
                    "from=-262143-01-01T00:00:00Z&to=-262143-06-01T00:00:00Z",
                    "from=2030-01-01T00:00:00Z&to=2030-01-01T00:00:00.001Z",
                    "from=2030-01-01T10:00:00%2B09:00&to=2030-01-02T00:00:00-05:00",
                ]),
            ),
        ),
        (
            vec!["after", "before", "limit"],
            q(
                "",
                strings(&[
                    "before=abc",
                    "after=1.5",
                    "limit=-1",
                    "before=1&after=2",
                    "before=99999999999999999999",
                    "after=",
                ]),
                strings(&[
                    "before=-9223372036854775808",
                    "after=9223372036854775807",
                    "before=9223372036854775807",
                    "before=0",
                    "after=-1",
                    "limit=0",
                    "limit=4294967295",
                ]),
            ),
        ),
        (
            vec!["after", "limit"],
            q(
                "",
                strings(&[
                    "after=abc",
                    "after=1.5",
                    "after=99999999999999999999",
                    "limit=-1",
                    "limit=abc",
                ]),
                strings(&[
                    "after=-1",
                    "after=9223372036854775807",
                    "limit=0",
                    "limit=4294967295",
                ]),
            ),
        ),
        (
            vec![
                "dueBefore",
                "isDone",
                "limit",
                "page",
                "priority",
                "studyId",
            ],
            q(
                "",
                plus(
                    &page_bad,
                    &[
                        "studyId=nope",
                        "isDone=perhaps",
                        "priority=URGENT",
                        "dueBefore=notadate",
                        "dueBefore=2025-13-01T00:00:00Z",
                    ],
                ),
                plus(
                    &page_odd,
                    &[
                        "dueBefore=%2B262142-12-31T23:59:59Z",
                        "dueBefore=-262143-01-01T00:00:00Z",
                        random_study.as_str(),
                    ],
                ),
            ),
        ),
        (
            vec!["includePending", "limit", "page", "role"],
            q(
                "",
                plus(
                    &page_bad,
                    &["role=KING", "role=owner", "includePending=perhaps"],
                ),
                plus(&page_odd, &["role=OWNER&includePending=true"]),
            ),
        ),
        (
            vec!["limit", "page", "unreadOnly"],
            q(
                "",
                plus(&page_bad, &["unreadOnly=2", "unreadOnly=yes"]),
                page_odd.clone(),
            ),
        ),
        (
            vec!["keyword", "limit", "page", "role", "status"],
            q(
                "",
                plus(&page_bad, &["status=BANNED", "role=KING"]),
                plus(
                    &page_odd,
                    &[
                        "keyword=%25_%5C",
                        "keyword=%00",
                        "status=SUSPENDED&role=SYSTEM_ADMIN",
                    ],
                ),
            ),
        ),
        (
            vec!["includeDeleted", "keyword", "limit", "page"],
            q(
                "",
                plus(&page_bad, &["includeDeleted=perhaps"]),
                plus(&page_odd, &["includeDeleted=true&keyword=%25"]),
            ),
        ),
        (
            vec!["limit", "page", "status", "targetType"],
            q(
                "",
                plus(&page_bad, &["status=X", "targetType=X"]),
                plus(&page_odd, &["status=PROCESSED&targetType=MESSAGE"]),
            ),
        ),
        (vec!["reason"], q("", Vec::new(), Vec::new())),
    ])
}

/// A well-formed body per request schema.
fn samples(real: &Ids) -> BTreeMap<&'static str, Value> {
    let s = &real.study;
    let password =
        json!({"currentPassword": "not-my-password1", "newPassword": "newstudy-together-42"});
    let event = json!({"title": "Meet", "description": "d", "startAt": "2030-01-01T10:00:00Z",
        "endAt": "2030-01-01T11:00:00Z", "allDay": false, "location": "Room 1"});
    BTreeMap::from([
        (
            "Signup",
            json!({"email": "fresh@example.com", "password": "study-together-42", "name": "Fresh"}),
        ),
        (
            "Login",
            json!({"email": "nobody@example.com", "password": "study-together-42"}),
        ),
        (
            "ProfilePatch",
            json!({"name": "New name", "bio": "bio", "avatarUrl": "https://example.com/a.png"}),
        ),
        ("PasswordChange", password),
        (
            "NewTask",
            json!({"title": "Task", "description": "d", "dueAt": "2030-01-01T00:00:00Z",
                "priority": "HIGH", "studyId": s}),
        ),
        (
            "TaskPatch",
            json!({"title": "T", "description": "d", "dueAt": "2030-01-01T00:00:00Z",
                "priority": "LOW", "studyId": s, "isDone": true}),
        ),
        (
            "NewReport",
            json!({"targetType": "STUDY", "targetId": s, "reason": "spam"}),
        ),
        (
            "NewStudy",
            json!({"name": "Another", "description": "d", "category": "c", "tags": ["a", "b"],
                "maxMembers": 10, "isPublic": true, "joinPolicy": "AUTO", "isRecruiting": true}),
        ),
        (
            "StudyPatch",
            json!({"name": "Renamed", "description": "d", "category": "c", "tags": ["x"],
                "maxMembers": 20, "isPublic": false, "joinPolicy": "AUTO", "isRecruiting": false}),
        ),
        (
            "JoinRequest",
            json!({"message": "let me in", "inviteCode": "ABCDEFGH"}),
        ),
        ("RoleChange", json!({"role": "ADMIN"})),
        (
            "NewNotice",
            json!({"title": "Title", "content": "Body", "isPinned": true}),
        ),
        (
            "NoticePatch",
            json!({"title": "T2", "content": "C2", "isPinned": false}),
        ),
        ("Pin", json!({"isPinned": true})),
        ("NewEvent", event.clone()),
        ("EventPatch", event),
        (
            "SendMessage",
            json!({"content": "hello", "fileId": Uuid::new_v4().to_string(), "clientId": "client-1"}),
        ),
        (
            "Suspension",
            json!({"reason": "spam", "until": "2099-01-01T00:00:00Z"}),
        ),
        ("ProcessReport", json!({"action": "DISMISS", "note": "ok"})),
    ])
}

/// Every documented operation under `/api/`, with a well-formed body where it takes
/// one and the query strings for its parameters.
pub fn routes(spec: &Value, real: &Ids) -> Vec<Route> {
    let mut queries = query_corpus();
    let mut samples = samples(real);
    let mut used_queries = BTreeSet::new();
    let mut used_samples = BTreeSet::new();
    let mut all = Vec::new();
    for (method, path, op) in operations(spec) {
        let what = format!("{method} {path}");
        let (input, sample) = match op.get("requestBody") {
            None => (Input::Nothing, Value::Null),
            Some(body) if body["content"].get("multipart/form-data").is_some() => {
                (Input::Multipart, Value::Null)
            }
            Some(body) => {
                let schema = schema_name(&body["content"]["application/json"]["schema"])
                    .unwrap_or_else(|| panic!("{what}: a JSON body without a named schema"));
                let sample = samples
                    .get(schema.as_str())
                    .unwrap_or_else(|| panic!("{what}: no sample body for {schema}"))
                    .clone();
                used_samples.insert(schema);
                let required = body["required"].as_bool().unwrap_or(false);
                let input = if required {
                    Input::Json
                } else {
                    Input::OptionalJson
                };
                (input, sample)
            }
        };
        let mut names: Vec<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        names.sort_unstable();
        let query = queries
            .get(names.as_slice())
            .unwrap_or_else(|| panic!("{what}: no query strings for the parameters {names:?}"));
        used_queries.insert(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>());
        let security = op["security"].as_array();
        let reads_auth = security
            .into_iter()
            .flatten()
            .any(|req| req.get("bearer").is_some());
        let anonymous_ok = !reads_auth
            || security
                .into_iter()
                .flatten()
                .any(|req| req.as_object().is_some_and(|r| r.is_empty()));
        all.push(Route {
            method,
            path: slotted(&path, op),
            input,
            sample,
            good_query: query.good,
            bad_queries: query.bad.clone(),
            odd_queries: query.odd.clone(),
            anonymous_ok,
            reads_auth,
        });
    }
    queries.retain(|names, _| {
        !used_queries.contains(&names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
    });
    samples.retain(|schema, _| !used_samples.contains(*schema));
    assert!(
        queries.is_empty() && samples.is_empty(),
        "corpus entries no documented operation uses: query parameter sets {:?}, bodies {:?}",
        queries.keys().collect::<Vec<_>>(),
        samples.keys().collect::<Vec<_>>()
    );
    assert!(all.len() > 60, "only {} operations documented", all.len());
    all
}
