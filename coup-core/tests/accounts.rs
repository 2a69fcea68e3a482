//! Accounts and sessions through [`Core`]: signup, login, logout, expiry, password
//! change and suspension.

mod common;

use chrono::{Duration, Utc};
use common::code;
use coup_core::model::*;
use coup_core::service::accounts::{self, Login, PasswordChange, ProfilePatch, Signup};
use coup_core::service::admin;
use coup_core::{Core, CoreConfig, ErrorCode};

fn signup(name: &str) -> Signup {
    Signup {
        email: format!("{name}@Example.com"),
        password: "study-together-42".into(),
        name: name.into(),
    }
}

fn login(core: &Core, name: &str, password: &str) -> coup_core::Result<LoginResult> {
    core.login_blocking(&Login {
        email: format!("{name}@example.com"),
        password: password.into(),
    })
}

#[tokio::test]
async fn signup_login_authenticate_logout() {
    let t = common::core();
    let created = t.signup(signup("kim")).await.expect("signup");
    assert_eq!(
        created.value.user.email, "kim@example.com",
        "emails are stored lower-cased"
    );
    assert_eq!(created.value.user.role, PlatformRole::User);
    t.authenticate(&created.value.token)
        .await
        .expect("signup signs in");
    let session =
        login(&t, "KIM", "study-together-42").expect("login is case-insensitive on email");
    let s = t.authenticate(&session.token).await.expect("authenticate");
    assert_eq!(s.user_id, created.value.user.id);
    assert_ne!(s.token_hash, session.token, "only the hash is stored");
    let stored: u64 = t
        .r(|tx| {
            tx.count(
                "SELECT COUNT(*) FROM sessions WHERE token_hash = ?",
                coup_core::params![&session.token],
            )
        })
        .expect("count");
    assert_eq!(stored, 0, "the raw token is never stored");
    t.w(|tx| accounts::logout(tx, Some(s.user_id), &s.token_hash))
        .expect("logout");
    assert_eq!(
        t.authenticate(&session.token)
            .await
            .expect_err("logged out")
            .code(),
        ErrorCode::Unauthorized
    );
    t.authenticate(&created.value.token)
        .await
        .expect("other sessions survive a logout");
}

#[tokio::test]
async fn bad_signups_are_refused_with_the_field_and_change_nothing() {
    let t = common::core();
    t.signup(signup("kim")).await.expect("signup");
    let before = t.snapshot();
    let cases = [
        (
            Signup {
                email: "KIM@example.com".into(),
                ..signup("x")
            },
            "CONFLICT",
            None,
        ),
        (
            Signup {
                email: "not-an-email".into(),
                ..signup("x")
            },
            "VALIDATION",
            Some("email"),
        ),
        (
            Signup {
                password: "short1".into(),
                ..signup("x")
            },
            "VALIDATION",
            Some("password"),
        ),
        (
            Signup {
                password: "lettersonly".into(),
                ..signup("x")
            },
            "VALIDATION",
            Some("password"),
        ),
        (
            Signup {
                name: "   ".into(),
                ..signup("x")
            },
            "VALIDATION",
            Some("name"),
        ),
        (
            Signup {
                name: "n".repeat(51),
                ..signup("x")
            },
            "VALIDATION",
            Some("name"),
        ),
    ];
    for (input, expected, field) in cases {
        let err = t.signup(input.clone()).await.expect_err("refused");
        assert_eq!(err.code().as_str(), expected, "{input:?}");
        assert_eq!(err.field(), field, "{input:?}");
    }
    assert_eq!(t.snapshot(), before);
}

#[tokio::test]
async fn wrong_credentials_are_one_answer() {
    let t = common::core();
    t.signup(signup("kim")).await.expect("signup");
    let wrong_password = login(&t, "kim", "password124").expect_err("wrong");
    let unknown = login(&t, "nobody", "study-together-42").expect_err("unknown");
    assert_eq!(wrong_password.code(), ErrorCode::Unauthorized);
    assert_eq!(
        wrong_password.to_string(),
        unknown.to_string(),
        "no account enumeration"
    );
    assert_eq!(
        t.authenticate("forged").await.expect_err("forged").code(),
        ErrorCode::Unauthorized
    );
}

#[tokio::test]
async fn sessions_expire() {
    let (store, _scratch) = common::store();
    let core = Core::new(
        store,
        CoreConfig {
            session_ttl: Duration::seconds(-1),
            ..CoreConfig::default()
        },
    );
    let created = core.signup(signup("kim")).await.expect("signup");
    let err = core
        .authenticate(&created.value.token)
        .await
        .expect_err("expired");
    assert_eq!(err.code(), ErrorCode::Unauthorized);
    let purged = core
        .store()
        .write_blocking(|tx| accounts::purge_expired_sessions(tx, Utc::now()))
        .expect("purge");
    assert_eq!(purged, 1);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_only() {
    let t = common::core();
    let first = t.signup(signup("kim")).await.expect("signup").value;
    let second = login(&t, "kim", "study-together-42").expect("second device");
    let current = t.authenticate(&second.token).await.expect("auth");
    let wrong = t
        .change_password(
            current.clone(),
            PasswordChange {
                current_password: "nope12345".into(),
                new_password: "fresh-meadow-93".into(),
            },
        )
        .await
        .expect_err("wrong current");
    assert_eq!(wrong.field(), Some("currentPassword"));
    let weak = t
        .change_password(
            current.clone(),
            PasswordChange {
                current_password: "study-together-42".into(),
                new_password: "short".into(),
            },
        )
        .await
        .expect_err("weak");
    assert_eq!(weak.field(), Some("newPassword"));
    t.change_password(
        current,
        PasswordChange {
            current_password: "study-together-42".into(),
            new_password: "fresh-meadow-93".into(),
        },
    )
    .await
    .expect("change");
    t.authenticate(&second.token)
        .await
        .expect("the session that changed it lives on");
    assert_eq!(
        t.authenticate(&first.token)
            .await
            .expect_err("ended")
            .code(),
        ErrorCode::Unauthorized
    );
    assert_eq!(
        login(&t, "kim", "study-together-42")
            .expect_err("old")
            .code(),
        ErrorCode::Unauthorized
    );
    login(&t, "kim", "fresh-meadow-93").expect("new password works");
}

#[tokio::test]
async fn suspension_ends_all_sessions_and_blocks_login_until_restored_or_expired() {
    let t = common::core();
    let kim = t.signup(signup("kim")).await.expect("signup").value;
    let boss = t.user_with_role("boss", PlatformRole::SystemAdmin);
    login(&t, "kim", "study-together-42").expect("second session");
    let bad = t.w(|tx| {
        admin::suspend(
            tx,
            Some(boss),
            kim.user.id,
            admin::Suspension {
                reason: " ".into(),
                until: None,
            },
        )
    });
    assert_eq!(code(&bad), "VALIDATION");
    let past = t.w(|tx| {
        admin::suspend(
            tx,
            Some(boss),
            kim.user.id,
            admin::Suspension {
                reason: "spam".into(),
                until: Some(Utc::now() - Duration::hours(1)),
            },
        )
    });
    assert_eq!(code(&past), "VALIDATION");
    t.w(|tx| {
        admin::suspend(
            tx,
            Some(boss),
            kim.user.id,
            admin::Suspension {
                reason: "spam".into(),
                until: None,
            },
        )
    })
    .expect("suspend");
    assert_eq!(
        t.r(|tx| accounts::session_count(tx, kim.user.id))
            .expect("count"),
        0
    );
    assert_eq!(
        t.authenticate(&kim.token).await.expect_err("ended").code(),
        ErrorCode::Unauthorized
    );
    assert_eq!(
        login(&t, "kim", "study-together-42")
            .expect_err("suspended")
            .code(),
        ErrorCode::Forbidden
    );
    let acting = t.w(|tx| {
        accounts::update_me(
            tx,
            Some(kim.user.id),
            ProfilePatch {
                bio: Some("x".into()),
                ..Default::default()
            },
        )
    });
    assert_eq!(
        code(&acting),
        "FORBIDDEN",
        "a suspended account cannot act even with a stale caller"
    );
    t.w(|tx| admin::restore(tx, Some(boss), kim.user.id))
        .expect("restore");
    assert_eq!(
        code(&t.w(|tx| admin::restore(tx, Some(boss), kim.user.id))),
        "CONFLICT"
    );
    login(&t, "kim", "study-together-42").expect("restored");

    // A suspension with an end lifts itself at the next login after it.
    t.w(|tx| {
        admin::suspend(
            tx,
            Some(boss),
            kim.user.id,
            admin::Suspension {
                reason: "cool down".into(),
                until: Some(Utc::now() + Duration::milliseconds(1500)),
            },
        )
    })
    .expect("timed suspension");
    assert_eq!(
        login(&t, "kim", "study-together-42")
            .expect_err("still suspended")
            .code(),
        ErrorCode::Forbidden
    );
    std::thread::sleep(std::time::Duration::from_millis(1600));
    let back = login(&t, "kim", "study-together-42").expect("suspension over");
    assert_eq!(back.user.status, UserStatus::Active);
}

#[tokio::test]
async fn profile_updates_validate_each_field() {
    let t = common::core();
    let kim = t.signup(signup("kim")).await.expect("signup").value.user.id;
    let before = t.snapshot();
    for (patch, field) in [
        (
            ProfilePatch {
                name: Some(String::new()),
                ..Default::default()
            },
            Some("name"),
        ),
        (
            ProfilePatch {
                avatar_url: Some("ftp://x".into()),
                ..Default::default()
            },
            Some("avatarUrl"),
        ),
        (
            ProfilePatch {
                bio: Some("b".repeat(501)),
                ..Default::default()
            },
            Some("bio"),
        ),
        (ProfilePatch::default(), Some("body")),
    ] {
        let err = t
            .w(|tx| accounts::update_me(tx, Some(kim), patch.clone()))
            .expect_err("refused");
        assert_eq!(err.field(), field, "{patch:?}");
    }
    assert_eq!(t.snapshot(), before);
    let user = t
        .w(|tx| {
            accounts::update_me(
                tx,
                Some(kim),
                ProfilePatch {
                    name: Some("김민수".into()),
                    bio: Some("안녕".into()),
                    avatar_url: Some("https://x.test/a.png".into()),
                },
            )
        })
        .expect("update");
    assert_eq!(
        (user.name.as_str(), user.bio.as_deref()),
        ("김민수", Some("안녕"))
    );
    let cleared = t
        .w(|tx| {
            accounts::update_me(
                tx,
                Some(kim),
                ProfilePatch {
                    bio: Some(String::new()),
                    ..Default::default()
                },
            )
        })
        .expect("clear");
    assert_eq!(cleared.bio, None);
}
