//! The call engine against the real `coup-server` on loopback (media bound to
//! 127.0.0.1): video and audio both ways, a mesh that loses and gains members,
//! screen share on and off under Xvfb with real X11 capture, crossing offers,
//! a signaling socket that drops, a join again refused while another device
//! holds the seat, and bad signaling input.
//!
//! Needs the server binary in `COUP_SERVER_BIN` and, for the screen test, an
//! X11 display in `DISPLAY`: `coup-core/media-ci.sh` builds and starts both.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use coup_core::api::accounts::Signup;
use coup_core::api::membership::JoinRequest;
use coup_core::api::studies::NewStudy;
use coup_core::client::{AppEvent, Client, ClientConfig, Signal};
use coup_core::ids::{StudyId, UserId};
use coup_core::media::pattern::{PatternSource, ToneSource};
use coup_core::media::x11::X11Source;
use coup_core::media::{Call, CallOptions, Recorder, TrackKind, TrackReport};
use coup_core::model::JoinPolicy;
use coup_core::realtime::calls::MediaState;
use coup_core::{ErrorCode, Reason};

struct Server {
    base: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server() -> Server {
    let bin = std::env::var("COUP_SERVER_BIN")
        .expect("COUP_SERVER_BIN: the coup-server binary (coup-core/media-ci.sh sets it)");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(bin);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("COUP_")) {
        command.env_remove(key);
    }
    let mut child = command
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn coup-server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening on …")
        .to_owned();
    Server {
        base,
        child,
        _dir: dir,
    }
}

struct Person {
    client: Client,
    id: UserId,
    recorder: Arc<Recorder>,
    _cache: tempfile::TempDir,
}

async fn person(srv: &Server, name: &str) -> Person {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut config = ClientConfig::new(&srv.base, cache.path().join("cache.db"));
    config.live.min_backoff = Duration::from_millis(200);
    config.live.max_backoff = Duration::from_secs(1);
    let client = Client::signup(
        config,
        Signup {
            email: format!("{name}@example.com"),
            password: "study-together-42".into(),
            name: name.into(),
        },
    )
    .await
    .expect("signup");
    let id = client.user().id;
    Person {
        client,
        id,
        recorder: Arc::default(),
        _cache: cache,
    }
}

/// A study `owner` made, with everyone in `members` joined and every one of
/// them following it.
async fn study(owner: &Person, members: &[&Person]) -> StudyId {
    let study = owner
        .client
        .api()
        .create_study(&NewStudy {
            name: "Calls".into(),
            description: "a study with calls".into(),
            category: "프로그래밍".into(),
            tags: vec![],
            max_members: 10,
            is_public: true,
            join_policy: JoinPolicy::Auto,
            is_recruiting: true,
        })
        .await
        .expect("study")
        .id;
    owner.client.follow(study).await.expect("follow");
    for m in members {
        m.client
            .api()
            .join_study(study, &JoinRequest::default())
            .await
            .expect("join");
        m.client.follow(study).await.expect("follow");
    }
    study
}

fn options() -> CallOptions {
    CallOptions {
        camera: Some(Box::new(PatternSource::new(320, 240).expect("pattern"))),
        mic: Some(Box::new(ToneSource::new(440.0))),
        fps: 20,
        kbps: 400,
        udp_addrs: vec!["127.0.0.1:0".into()],
        ..CallOptions::default()
    }
}

async fn join(p: &Person, study: StudyId) -> Call {
    Call::join(p.client.clone(), study, options(), p.recorder.clone())
        .await
        .expect("join the call")
}

/// Waits (up to 30 s) until `at` has heard `track` from `from` as `cond` wants.
async fn until(
    what: &str,
    at: &Person,
    from: &Person,
    track: TrackKind,
    cond: impl Fn(&TrackReport) -> bool,
) -> TrackReport {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = at.recorder.track(from.id, track)
            && cond(&r)
        {
            return r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: {what}; heard {:?}",
            at.recorder.track(from.id, track)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Video with increasing pattern numbers and a sounding tone, from `from` at `at`.
async fn media_flows(at: &Person, from: &Person, frames: u64) {
    let video = until("video", at, from, TrackKind::Camera, |r| r.stamps >= frames).await;
    assert_eq!(video.backwards, 0, "frame numbers only increase: {video:?}");
    assert_eq!((video.width, video.height), (320, 240));
    until("audio", at, from, TrackKind::Mic, |r| r.loud_packets >= 25).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_peers_send_video_and_audio_both_ways() {
    let srv = server();
    let (kim, lee) = (person(&srv, "kim").await, person(&srv, "lee").await);
    let study = study(&kim, &[&lee]).await;
    let kim_call = join(&kim, study).await;
    let lee_call = join(&lee, study).await;
    media_flows(&kim, &lee, 30).await;
    media_flows(&lee, &kim, 30).await;
    let latency = kim
        .recorder
        .track(lee.id, TrackKind::Camera)
        .and_then(|r| r.latency_p95_ms);
    assert!(
        latency.is_some_and(|l| l < 1000),
        "p95 latency {latency:?} ms on loopback"
    );
    lee_call.leave().await.expect("lee leaves");
    until(
        "lee's video ends at kim",
        &kim,
        &lee,
        TrackKind::Camera,
        |r| r.ended >= 1,
    )
    .await;
    kim_call.leave().await.expect("kim leaves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mesh_of_three_loses_one_and_gains_a_fourth() {
    let srv = server();
    let a = person(&srv, "ahn").await;
    let b = person(&srv, "baek").await;
    let c = person(&srv, "cho").await;
    let d = person(&srv, "do").await;
    let study = study(&a, &[&b, &c, &d]).await;
    let a_call = join(&a, study).await;
    let b_call = join(&b, study).await;
    let c_call = join(&c, study).await;
    for (at, from) in [(&a, &b), (&a, &c), (&b, &a), (&b, &c), (&c, &a), (&c, &b)] {
        media_flows(at, from, 20).await;
    }
    c_call.leave().await.expect("cho leaves");
    for at in [&a, &b] {
        until("cho's camera ends", at, &c, TrackKind::Camera, |r| {
            r.ended >= 1
        })
        .await;
        until("cho's mic ends", at, &c, TrackKind::Mic, |r| r.ended >= 1).await;
    }
    let d_call = join(&d, study).await;
    for (at, from) in [(&a, &d), (&b, &d), (&d, &a), (&d, &b)] {
        media_flows(at, from, 20).await;
    }
    assert!(
        d.recorder.track(c.id, TrackKind::Camera).is_none(),
        "do never hears cho"
    );
    let stats = a_call.stats().await.expect("stats");
    assert_eq!(
        stats.peers.len(),
        2,
        "ahn has peers for baek and do: {stats:?}"
    );
    for call in [a_call, b_call, d_call] {
        call.leave().await.expect("leave");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn screen_share_goes_on_and_off_mid_call_with_x11_capture() {
    let display =
        std::env::var("DISPLAY").expect("DISPLAY: an X11 display (media-ci.sh starts Xvfb)");
    let srv = server();
    let (kim, lee) = (person(&srv, "kim").await, person(&srv, "lee").await);
    let study = study(&kim, &[&lee]).await;
    let kim_call = join(&kim, study).await;
    let _lee_call = join(&lee, study).await;
    media_flows(&lee, &kim, 10).await;
    let screen = X11Source::open(Some(&display)).expect("the X11 display");
    let size = coup_core::media::VideoSource::size(&screen);
    kim_call
        .share_screen(Some(Box::new(screen)))
        .await
        .expect("share");
    let shared = until("kim's screen at lee", &lee, &kim, TrackKind::Screen, |r| {
        r.frames >= 10
    })
    .await;
    assert_eq!((shared.width, shared.height), size, "the display's size");
    kim_call.share_screen(None).await.expect("stop sharing");
    let stopped = until("the share ends", &lee, &kim, TrackKind::Screen, |r| {
        r.ended >= 1
    })
    .await;
    // The camera goes on through both renegotiations.
    let camera = lee
        .recorder
        .track(kim.id, TrackKind::Camera)
        .expect("camera");
    media_flows(&lee, &kim, camera.stamps + 20).await;
    let screen = X11Source::open(Some(&display)).expect("the X11 display");
    kim_call
        .share_screen(Some(Box::new(screen)))
        .await
        .expect("share again");
    until("the share is back", &lee, &kim, TrackKind::Screen, |r| {
        r.started >= 2 && r.frames >= stopped.frames + 10
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn camera_and_microphone_go_off_and_on_mid_call() {
    let srv = server();
    let (kim, lee) = (person(&srv, "kim").await, person(&srv, "lee").await);
    let study = study(&kim, &[&lee]).await;
    let kim_call = join(&kim, study).await;
    let _lee_call = join(&lee, study).await;
    media_flows(&lee, &kim, 10).await;
    let mut events = lee.client.events();
    kim_call.set_camera(None).await.expect("camera off");
    kim_call.set_mic(None).await.expect("mute");
    let off = until(
        "kim's camera ends at lee",
        &lee,
        &kim,
        TrackKind::Camera,
        |r| r.ended >= 1,
    )
    .await;
    until("kim's mic ends at lee", &lee, &kim, TrackKind::Mic, |r| {
        r.ended >= 1
    })
    .await;
    // Lee hears the state the toggles signaled.
    let muted = MediaState {
        mic: false,
        camera: false,
        screen: false,
    };
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.next().await {
            if let AppEvent::CallMedia { user_id, media, .. } = event
                && user_id == kim.id
                && media == muted
            {
                return;
            }
        }
    })
    .await
    .expect("kim's signaled media: camera off, muted");
    let camera = PatternSource::new(320, 240).expect("pattern");
    kim_call
        .set_camera(Some(Box::new(camera)))
        .await
        .expect("camera on");
    kim_call
        .set_mic(Some(Box::new(ToneSource::new(440.0))))
        .await
        .expect("unmute");
    until("kim's camera is back", &lee, &kim, TrackKind::Camera, |r| {
        r.started >= 2 && r.stamps >= off.stamps + 10
    })
    .await;
    until("kim's mic is back", &lee, &kim, TrackKind::Mic, |r| {
        r.started >= 2
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crossing_offers_resolve_without_deadlock() {
    let srv = server();
    let (kim, lee) = (person(&srv, "kim").await, person(&srv, "lee").await);
    let study = study(&kim, &[&lee]).await;
    let kim_call = join(&kim, study).await;
    let lee_call = join(&lee, study).await;
    media_flows(&kim, &lee, 10).await;
    media_flows(&lee, &kim, 10).await;
    // Both start a screen share at the same moment: both renegotiate at once.
    // Offers cross on most tries; try until one did, and media must flow each time.
    let mut glare = false;
    for round in 1..=5u32 {
        let share = |on: bool| {
            on.then(|| {
                Box::new(PatternSource::new(320, 240).expect("pattern"))
                    as Box<dyn coup_core::media::VideoSource>
            })
        };
        let (a, b) = tokio::join!(
            kim_call.share_screen(share(true)),
            lee_call.share_screen(share(true))
        );
        a.expect("kim shares");
        b.expect("lee shares");
        until("lee's share at kim", &kim, &lee, TrackKind::Screen, |r| {
            r.started >= round && r.stamps >= 10
        })
        .await;
        until("kim's share at lee", &lee, &kim, TrackKind::Screen, |r| {
            r.started >= round && r.stamps >= 10
        })
        .await;
        let (ks, ls) = (
            kim_call.stats().await.expect("stats"),
            lee_call.stats().await.expect("stats"),
        );
        let count = |s: &coup_core::media::CallStats| {
            s.peers
                .iter()
                .map(|p| p.ignored_offers + p.rollbacks)
                .sum::<u32>()
        };
        if count(&ks) + count(&ls) > 0 {
            glare = true;
            // Exactly one side yields: the polite one rolled back, the other ignored.
            let (polite, impolite) = if ks.peers[0].polite {
                (&ks, &ls)
            } else {
                (&ls, &ks)
            };
            assert_eq!(
                polite.peers[0].ignored_offers, 0,
                "the polite side never ignores"
            );
            assert_eq!(
                impolite.peers[0].rollbacks, 0,
                "the impolite side never rolls back"
            );
            break;
        }
        let (a, b) = tokio::join!(kim_call.share_screen(None), lee_call.share_screen(None));
        a.expect("kim stops");
        b.expect("lee stops");
        until("lee's share ends", &kim, &lee, TrackKind::Screen, |r| {
            r.ended >= round
        })
        .await;
    }
    assert!(
        glare,
        "offers crossed at least once in five simultaneous renegotiations"
    );
    media_flows(&kim, &lee, 60).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn media_resumes_after_the_signaling_socket_drops() {
    let srv = server();
    let (kim, lee) = (person(&srv, "kim").await, person(&srv, "lee").await);
    let study = study(&kim, &[&lee]).await;
    let _kim_call = join(&kim, study).await;
    let lee_call = join(&lee, study).await;
    media_flows(&kim, &lee, 10).await;
    // Lee's socket drops (as on a network change) and comes back.
    lee.client.network_changed();
    until(
        "lee's old tracks end at kim",
        &kim,
        &lee,
        TrackKind::Camera,
        |r| r.ended >= 1,
    )
    .await;
    let before = kim
        .recorder
        .track(lee.id, TrackKind::Camera)
        .expect("lee's camera");
    let after = until("lee's video is back", &kim, &lee, TrackKind::Camera, |r| {
        r.started >= 2 && r.stamps >= before.stamps + 20
    })
    .await;
    assert!(after.last_frame_no > before.last_frame_no);
    until(
        "kim's video is back at lee",
        &lee,
        &kim,
        TrackKind::Camera,
        |r| r.started >= 2 && r.stamps >= 20,
    )
    .await;
    assert_eq!(
        lee_call.stats().await.expect("stats").joins,
        2,
        "lee joined again once"
    );
}

/// Polls `call`'s stats until `cond` holds (up to 30 s); each answer must
/// come within a second, as it does from an engine that is not blocked.
async fn stats_until(
    what: &str,
    call: &Call,
    cond: impl Fn(&coup_core::media::CallStats) -> bool,
) -> coup_core::media::CallStats {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let stats = tokio::time::timeout(Duration::from_secs(1), call.stats())
            .await
            .unwrap_or_else(|_| panic!("the engine did not answer within 1 s ({what})"))
            .expect("stats");
        if cond(&stats) {
            return stats;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: {what}; stats {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rejoin_refused_while_another_device_holds_the_seat_is_retried_and_the_call_still_answers()
 {
    let srv = server();
    let (kim, lee) = (person(&srv, "kim").await, person(&srv, "lee").await);
    let study = study(&kim, &[&lee]).await;
    let _kim_call = join(&kim, study).await;
    let lee_call = join(&lee, study).await;
    media_flows(&kim, &lee, 10).await;
    // Lee's phone: the same account on a second client, following the study.
    let phone_cache = tempfile::tempdir().expect("tempdir");
    let phone = Client::login(
        ClientConfig::new(&srv.base, phone_cache.path().join("cache.db")),
        "lee@example.com",
        "study-together-42",
    )
    .await
    .expect("the phone signs in");
    phone.follow(study).await.expect("follow");
    // Lee's desktop goes offline: the server ends its seat with the socket,
    // and the phone takes the seat as soon as it is free.
    lee.client.pause();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match phone.join_call(study, MediaState::default()).await {
            Ok(_) => break,
            Err(e) if e.reason() == Some(Reason::AlreadyInCall) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the old seat never ended"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the phone's join: {e}"),
        }
    }
    // The desktop comes back: its join again is refused (the phone holds the
    // seat) and retried, while the engine goes on answering.
    lee.client.resume();
    stats_until("a refused join again", &lee_call, |s| {
        s.refused_rejoins >= 2
    })
    .await;
    assert_eq!(lee_call.stats().await.expect("stats").joins, 1);
    // The phone leaves: the next try seats the desktop, and media flows again.
    let before = kim
        .recorder
        .track(lee.id, TrackKind::Camera)
        .expect("lee's camera");
    phone.leave_call(study).await.expect("the phone leaves");
    stats_until("joined again", &lee_call, |s| s.joins == 2).await;
    until(
        "lee's video is back at kim",
        &kim,
        &lee,
        TrackKind::Camera,
        |r| r.started >= 2 && r.stamps >= before.stamps + 20,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_signaling_input_is_refused_and_the_call_goes_on() {
    let srv = server();
    let kim = person(&srv, "kim").await;
    let lee = person(&srv, "lee").await;
    let mallory = person(&srv, "mallory").await;
    let study = study(&kim, &[&lee, &mallory]).await;
    let kim_call = join(&kim, study).await;
    let _lee_call = join(&lee, study).await;
    media_flows(&kim, &lee, 10).await;
    // Someone not in the call cannot signal into it.
    let refused = mallory
        .client
        .send_signal(study, kim.id, Signal::Offer { sdp: "v=0".into() })
        .await
        .expect_err("not a participant");
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    assert_eq!(refused.reason(), Some(Reason::NotInCall));
    // Lee's client (in the call) sends garbage: an SDP that does not parse, an
    // answer to nothing, a candidate that does not parse.
    for signal in [
        Signal::Offer {
            sdp: "this is not SDP".into(),
        },
        Signal::Answer { sdp: "v=0".into() },
        Signal::IceCandidate {
            candidate: "candidate:garbage".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        },
    ] {
        lee.client
            .send_signal(study, kim.id, signal)
            .await
            .expect("relayed");
    }
    // Mallory joins and signals someone who is not in the call.
    mallory
        .client
        .join_call(study, MediaState::default())
        .await
        .expect("mallory joins");
    let nobody = mallory
        .client
        .send_signal(study, UserId::new(), Signal::Answer { sdp: "v=0".into() })
        .await
        .expect_err("no such participant");
    assert_eq!(nobody.code(), ErrorCode::NotFound);
    mallory
        .client
        .leave_call(study)
        .await
        .expect("mallory leaves");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stats = kim_call.stats().await.expect("stats");
        let lee_peer = stats
            .peers
            .iter()
            .find(|p| p.user_id == lee.id)
            .expect("lee's peer");
        if lee_peer.bad_signals >= 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "garbage counted: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = kim
        .recorder
        .track(lee.id, TrackKind::Camera)
        .expect("camera")
        .stamps;
    media_flows(&kim, &lee, before + 40).await;
}

/// A sink that decodes by itself (as the desktop's webview does): it keeps
/// when each keyframe arrived and hands everything else to a recorder.
struct KeyframeClock {
    recorder: Arc<Recorder>,
    keyframes: std::sync::Mutex<Vec<std::time::Instant>>,
}

impl KeyframeClock {
    fn keyframes(&self) -> Vec<std::time::Instant> {
        self.keyframes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits (up to 10 s) for a keyframe after the `seen`th; when it came.
    async fn next_keyframe(&self, seen: usize) -> std::time::Instant {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(at) = self.keyframes().get(seen) {
                return *at;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no keyframe after {seen}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl coup_core::media::MediaSink for KeyframeClock {
    fn track_started(&self, from: UserId, track: TrackKind) {
        self.recorder.track_started(from, track);
    }
    fn encoded_video(
        &self,
        _from: UserId,
        track: TrackKind,
        frame: &coup_core::media::codec::EncodedFrame,
    ) {
        if track == TrackKind::Camera && frame.keyframe {
            let mut keyframes = self.keyframes.lock().unwrap_or_else(|e| e.into_inner());
            keyframes.push(std::time::Instant::now());
        }
    }
    fn video(&self, from: UserId, track: TrackKind, frame: &coup_core::media::VideoFrame) {
        self.recorder.video(from, track, frame);
    }
    fn audio(&self, from: UserId, pcm: &[i16]) {
        self.recorder.audio(from, pcm);
    }
    fn track_ended(&self, from: UserId, track: TrackKind) {
        self.recorder.track_ended(from, track);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sink_that_lost_the_picture_gets_a_keyframe_when_it_asks() {
    let srv = server();
    let (kim, lee) = (person(&srv, "kim").await, person(&srv, "lee").await);
    let study = study(&kim, &[&lee]).await;
    let _kim_call = join(&kim, study).await;
    let clock = Arc::new(KeyframeClock {
        recorder: lee.recorder.clone(),
        keyframes: Default::default(),
    });
    let lee_call = Call::join(lee.client.clone(), study, options(), clock.clone())
        .await
        .expect("lee joins");
    media_flows(&lee, &kim, 10).await;
    // Unasked, keyframes come every 2 s (the encoder's interval): two in a row
    // are that far apart.
    let seen = clock.keyframes().len();
    let first = clock.next_keyframe(seen).await;
    let periodic = clock.next_keyframe(seen + 1).await - first;
    assert!(
        periodic >= Duration::from_millis(1500),
        "unasked keyframes {periodic:?} apart"
    );
    // Just after a keyframe the sink loses its picture and asks: the next
    // keyframe comes long before the periodic one would.
    let asked = std::time::Instant::now();
    lee_call
        .request_keyframe(kim.id, TrackKind::Camera)
        .expect("ask");
    let answered = clock.next_keyframe(seen + 2).await - asked;
    assert!(
        answered < Duration::from_millis(700),
        "a keyframe {answered:?} after asking (periodic: {periodic:?})"
    );
    // Asking for a peer or a track that is not there is ignored.
    lee_call
        .request_keyframe(UserId::new(), TrackKind::Camera)
        .expect("an unknown peer");
    lee_call
        .request_keyframe(kim.id, TrackKind::Mic)
        .expect("audio has no keyframes");
    media_flows(&lee, &kim, 40).await;
}
