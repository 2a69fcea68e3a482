//! A headless call participant: it signs in, joins a study's call with real
//! media — the moving test pattern (or an X11 screen, or a camera) and a tone —
//! and reports what it receives from everyone else as JSON: frames decoded, frame rate,
//! resolution, the pattern's frame numbers, end-to-end latency read from the
//! pattern, audio packets — and, under `call`, each peer connection's state and
//! negotiation counts. Tests and benchmarks run it; so can a self-hoster
//! checking that calls work through their server.
//!
//! ```sh
//! cargo run -p coup-server -- --demo          # in one terminal
//! cargo run -p coup-core --features media --example call_peer -- \
//!     --email kim@example.com --password study-together-42 --seconds 20
//! ```
//!
//! Run a second one with another account of the same study to see media both
//! ways. `--loopback` keeps media on 127.0.0.1 (both peers on one machine).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use coup_core::api::studies::MyStudiesQuery;
use coup_core::client::{Client, ClientConfig};
use coup_core::ids::StudyId;
use coup_core::media::camera::Camera;
use coup_core::media::pattern::{PatternSource, ToneSource};
use coup_core::media::x11::X11Source;
use coup_core::media::{AudioSource, Call, CallOptions, Recorder, VideoSource};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Video {
    /// The moving test pattern that carries frame numbers and capture times.
    Pattern,
    /// The X11 display in `$DISPLAY` (or `--display`), as the camera track.
    Screen,
    /// A V4L2 camera: `--camera-device`, or the first `/dev/video*`, at the
    /// size it has nearest `--width`×`--height`.
    Camera,
    /// No video.
    None,
}

/// Joins a CoUp study's call with synthetic media and reports what arrives.
#[derive(Debug, Parser)]
struct Args {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The account's email.
    #[arg(long)]
    email: String,
    /// The account's password.
    #[arg(long, env = "COUP_PEER_PASSWORD", hide_env_values = true)]
    password: String,
    /// The study whose call to join (default: the account's first study).
    #[arg(long)]
    study: Option<StudyId>,
    /// What to send as video.
    #[arg(long, value_enum, default_value_t = Video::Pattern)]
    video: Video,
    /// Send no tone.
    #[arg(long)]
    no_audio: bool,
    /// Also share this X11 display as a screen share, from the start.
    #[arg(long)]
    share_screen: bool,
    /// The X11 display for `--video screen` and `--share-screen` (default `$DISPLAY`).
    #[arg(long)]
    display: Option<String>,
    /// The camera for `--video camera` (default: the first that captures).
    #[arg(long)]
    camera_device: Option<std::path::PathBuf>,
    /// Pattern (or wanted camera) width.
    #[arg(long, default_value_t = 640)]
    width: u32,
    /// Pattern (or wanted camera) height.
    #[arg(long, default_value_t = 480)]
    height: u32,
    /// Video frames per second.
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// Video bitrate, kbit/s.
    #[arg(long, default_value_t = 1000)]
    kbps: u32,
    /// Bind media to 127.0.0.1 only (peers on one machine, no network).
    #[arg(long)]
    loopback: bool,
    /// Stop after this many seconds in the call (0: run until interrupted).
    #[arg(long, default_value_t = 0)]
    seconds: u64,
    /// Seconds to wait after joining before measuring (connection set-up and
    /// the first keyframe stay out of the numbers).
    #[arg(long, default_value_t = 0)]
    warmup: u64,
    /// Print a report (with the call's stats) every this many seconds as well
    /// (0: only at the end).
    #[arg(long, default_value_t = 0)]
    every: u64,
    /// The offline cache file.
    #[arg(long, default_value = "coup-call-peer-cache.db")]
    cache: PathBuf,
}

fn video_source(
    args: &Args,
    kind: Video,
) -> Result<Option<Box<dyn VideoSource>>, coup_core::Error> {
    Ok(match kind {
        Video::Pattern => Some(Box::new(PatternSource::new(args.width, args.height)?)),
        Video::Screen => Some(Box::new(X11Source::open(args.display.as_deref())?)),
        Video::Camera => {
            let want = (args.width, args.height);
            Some(Box::new(match &args.camera_device {
                Some(path) => Camera::open(path, want)?,
                None => Camera::find(want)?,
            }))
        }
        Video::None => None,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let config = ClientConfig::new(&args.server, &args.cache);
    let client = Client::login(config, &args.email, &args.password).await?;
    let study = match args.study {
        Some(study) => study,
        None => client
            .api()
            .my_studies(&MyStudiesQuery::default())
            .await?
            .items
            .first()
            .map(|s| s.id)
            .ok_or("the account is in no study; pass --study")?,
    };
    client.follow(study).await?;
    let recorder = Arc::new(Recorder::default());
    let options = CallOptions {
        camera: video_source(&args, args.video)?,
        mic: (!args.no_audio).then(|| Box::new(ToneSource::new(440.0)) as Box<dyn AudioSource>),
        fps: args.fps,
        kbps: args.kbps,
        udp_addrs: vec![
            if args.loopback {
                "127.0.0.1:0"
            } else {
                "0.0.0.0:0"
            }
            .to_owned(),
        ],
        ..CallOptions::default()
    };
    let started = Instant::now();
    let call = Call::join(client.clone(), study, options, recorder.clone()).await?;
    if args.share_screen {
        call.share_screen(video_source(&args, Video::Screen)?)
            .await?;
    }
    eprintln!("{} joined the call of study {study}", client.user().name);
    if args.warmup > 0 {
        tokio::time::sleep(Duration::from_secs(args.warmup)).await;
        recorder.reset();
    }
    let measuring = Instant::now();
    let report = |final_: bool| {
        json!({
            "final": final_,
            "user": client.user().id,
            "study": study,
            "seconds": (measuring.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            "tracks": recorder.report(),
        })
    };
    let deadline = (args.seconds > 0).then(|| started + Duration::from_secs(args.seconds));
    let every = (args.every > 0).then(|| Duration::from_secs(args.every));
    let mut tick = tokio::time::interval(every.unwrap_or(Duration::from_secs(3600)));
    tick.tick().await;
    loop {
        let until_end = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tokio::time::sleep(until_end.unwrap_or(Duration::from_secs(3600))), if until_end.is_some() => break,
            _ = tick.tick(), if every.is_some() => {
                let mut line = report(false);
                line["call"] = serde_json::to_value(call.stats().await?)?;
                println!("{line}");
            }
        }
    }
    let stats = call.stats().await?;
    let mut last = report(true);
    last["call"] = serde_json::to_value(stats)?;
    println!("{last}");
    call.leave().await?;
    Ok(())
}
