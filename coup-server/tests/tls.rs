//! HTTPS and WSS end to end: `coup-server --tls-cert --tls-key` terminates TLS
//! itself, and `coup_core::client` talks to it with a certificate made in the
//! test by a CA of the test's own — trusted through `extra_roots_pem`, and
//! refused, with an error that says so, by a client that does not know the CA.

mod common;

use std::path::PathBuf;

use common::app::{new_study, until};
use coup_core::ErrorCode;
use coup_core::client::{ApiClient, AppEvent, Client, ClientConfig};
use coup_core::model::JoinPolicy;
use coup_core::service::accounts::Signup;

/// A CA and a server certificate it signed for 127.0.0.1 and localhost, as PEM
/// files in `dir`; returns (CA PEM, certificate path, key path).
fn certificates(dir: &tempfile::TempDir) -> (String, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "CoUp test CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("key");
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("params");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("certificate");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (ca.pem(), cert_path, key_path)
}

fn config(base: &str, dir: &tempfile::TempDir, ca: Option<&str>) -> ClientConfig {
    let mut config = ClientConfig::new(base, dir.path().join("cache.db"));
    config.extra_roots_pem = ca.map(|pem| pem.as_bytes().to_vec());
    config
}

fn signup(name: &str) -> Signup {
    Signup {
        email: format!("{name}@example.com"),
        password: "study-together-42".into(),
        name: name.into(),
    }
}

#[tokio::test]
async fn clients_speak_https_and_wss_to_a_server_that_terminates_tls() {
    let certs = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = certificates(&certs);
    let srv = common::start_with(&[
        "--tls-cert",
        cert.to_str().expect("utf-8"),
        "--tls-key",
        key.to_str().expect("utf-8"),
    ]);
    assert!(srv.base.starts_with("https://"), "{}", srv.base);

    // Trusting the CA: REST over HTTPS and live events over WSS.
    let (kim_dir, lee_dir) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let kim = Client::signup(config(&srv.base, &kim_dir, Some(&ca)), signup("kim"))
        .await
        .expect("signup over https");
    let lee = Client::signup(config(&srv.base, &lee_dir, Some(&ca)), signup("lee"))
        .await
        .expect("signup over https");
    let study = kim
        .api()
        .create_study(&new_study("Secure", JoinPolicy::Auto))
        .await
        .expect("study");
    lee.api()
        .join_study(study.id, &Default::default())
        .await
        .expect("join");
    let mut events = kim.events();
    kim.follow(study.id).await.expect("follow");
    until(&mut events, |e| {
        matches!(e, AppEvent::OnlineMembers { .. }).then_some(())
    })
    .await;
    lee.send_message(study.id, "암호화된 인사")
        .await
        .expect("send");
    let heard = until(&mut events, |e| match e {
        AppEvent::MessageReceived { message } => Some(message.content),
        _ => None,
    })
    .await;
    assert_eq!(heard, "암호화된 인사");

    // Not trusting it: refused before anything is sent, and said so.
    let stranger = ApiClient::new(&srv.base).expect("client");
    let refused = stranger.ready().await.expect_err("an unknown CA");
    assert_eq!(refused.code(), ErrorCode::Unavailable);
    assert!(
        refused.to_string().contains("certificate is not trusted"),
        "{refused}"
    );
    let other_dir = tempfile::tempdir().expect("dir");
    let (other_ca, _, _) = certificates(&other_dir);
    let wrong = Client::login(
        config(&srv.base, &other_dir, Some(&other_ca)),
        "kim@example.com",
        "study-together-42",
    )
    .await
    .expect_err("another CA's trust is not this server's");
    assert!(
        wrong.to_string().contains("certificate is not trusted"),
        "{wrong}"
    );
    // A CA that is not PEM is a clear configuration error.
    let bad = Client::login(
        config(&srv.base, &other_dir, Some("not a certificate")),
        "kim@example.com",
        "study-together-42",
    )
    .await
    .expect_err("not PEM");
    assert_eq!(bad.code(), ErrorCode::Validation);
}

#[test]
fn half_a_tls_configuration_is_refused_at_start() {
    let certs = tempfile::tempdir().expect("tempdir");
    let (_, cert, _) = certificates(&certs);
    let data = tempfile::tempdir().expect("tempdir");
    for args in [
        vec!["--tls-cert", cert.to_str().expect("utf-8")],
        vec![
            "--tls-cert",
            cert.to_str().expect("utf-8"),
            "--tls-key",
            cert.to_str().expect("utf-8"),
        ],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_coup-server"))
            .args(["--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .args(&args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run");
        assert!(!out.status.success(), "{args:?} started");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("tls") || stderr.contains("TLS") || stderr.contains("key"),
            "{stderr}"
        );
    }
}
