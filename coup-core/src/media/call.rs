//! A study's call with real media: [`Call::join`] joins through the client's
//! signaling and runs one engine task that keeps one [`Peer`] per other
//! participant, driven by the client's app events:
//!
//! - `callParticipantJoined` (or the joiner's offer, if it overtook that
//!   news) → a peer that answers the joiner's offer;
//!   joining → a peer per participant already there, each offering
//!   ([`rules::offers_first`]);
//! - `callParticipantLeft` → that peer is closed (its tracks end at the sink);
//! - `callSignal` → routed to the sender's peer; a signal from someone with no
//!   peer is dropped (the server relays only between participants; anything
//!   else is a stale signal from a peer just closed);
//! - the live connection coming back after a loss ([`rules::rejoin`]: a
//!   connection newer than the one that holds the seat is online) → the server
//!   ended this user's place in the call with the old socket (the others saw
//!   them leave and closed their side), so every peer is closed, the call
//!   joined again, and every peer offered anew. Should the server still hold
//!   the old seat (`ALREADY_IN_CALL`), the join is tried again on a timer of
//!   the engine's loop ([`rules::rejoin_retry`]), which goes on answering
//!   commands meanwhile.
//!
//! Media flows beside the task: each local source runs on a thread of its own
//! (capture, encode), and a writer task fans each encoded frame out to every
//! peer's track of that kind — one encode, N sends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media::Sample;
use tokio::sync::{mpsc, oneshot};

use super::codec::{OpusEncoder, Vp8Encoder};
use super::peer::{KeyframeRequests, Peer, PeerOutputs, PeerSetup, PeerStatus};
use super::rules;
use super::{AUDIO_FRAME, AudioSource, MediaSink, TrackKind, VideoSource};
use crate::client::{AppEvent, Client, ConnectionState, EventStream, JoinedCall, Signal};
use crate::error::{Error, Result};
use crate::ids::{StudyId, UserId};
use crate::realtime::calls::MediaState;
use crate::realtime::protocol::IceServer;

/// How a call sends.
pub struct CallOptions {
    /// The camera (or a test pattern); `None` sends no video.
    pub camera: Option<Box<dyn VideoSource>>,
    /// The microphone (or a tone); `None` sends no audio.
    pub mic: Option<Box<dyn AudioSource>>,
    /// Camera frames per second.
    pub fps: u32,
    /// Camera bitrate, kbit/s.
    pub kbps: u32,
    /// Screen-share frames per second.
    pub screen_fps: u32,
    /// Screen-share bitrate, kbit/s.
    pub screen_kbps: u32,
    /// Local UDP addresses for ICE host candidates (`["0.0.0.0:0"]` for every
    /// interface; `["127.0.0.1:0"]` keeps a test on loopback).
    pub udp_addrs: Vec<String>,
}

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            camera: None,
            mic: None,
            fps: 30,
            kbps: 1000,
            screen_fps: 10,
            screen_kbps: 1500,
            udp_addrs: vec!["0.0.0.0:0".to_owned()],
        }
    }
}

/// One peer, as reported.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerStats {
    /// The other participant.
    pub user_id: UserId,
    /// Whether this side yields on glare.
    pub polite: bool,
    /// The connection state (WebRTC's words).
    pub state: String,
    /// Offers sent.
    pub offers: u32,
    /// Offers ignored on glare.
    pub ignored_offers: u32,
    /// Own offers rolled back on glare.
    pub rollbacks: u32,
    /// ICE restarts started.
    pub ice_restarts: u32,
    /// Malformed signals refused.
    pub bad_signals: u32,
}

/// The call, as reported.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallStats {
    /// Times the call was joined (1 + rejoins after the connection came back).
    pub joins: u32,
    /// Tries to join again that the server refused for now (the old
    /// connection's seat not yet ended), each retried on a timer.
    pub refused_rejoins: u32,
    /// Peers now.
    pub peers: Vec<PeerStats>,
}

enum Command {
    Video(
        TrackKind,
        Option<Box<dyn VideoSource>>,
        oneshot::Sender<Result<()>>,
    ),
    Mic(Option<Box<dyn AudioSource>>, oneshot::Sender<Result<()>>),
    WantKeyframe(UserId, TrackKind),
    Stats(oneshot::Sender<CallStats>),
    Leave(oneshot::Sender<Result<()>>),
}

/// A call in progress. Dropping it leaves the call (in the background).
pub struct Call {
    commands: mpsc::UnboundedSender<Command>,
    task: Option<tokio::task::JoinHandle<()>>,
    joined: JoinedCall,
}

impl Call {
    /// Joins the study's call (the study must be followed) and starts sending
    /// what `options` has; received media goes to `sink`.
    pub async fn join(
        client: Client,
        study: StudyId,
        options: CallOptions,
        sink: Arc<dyn MediaSink>,
    ) -> Result<Self> {
        // Listen before joining: the first signals may follow the join at once.
        let events = client.events();
        let me = client.user().id;
        let media = MediaState {
            mic: options.mic.is_some(),
            camera: options.camera.is_some(),
            screen: false,
        };
        let (joined, seated_on) = client.join_call_on_connection(study, media).await?;
        let answer = joined.clone();
        let outputs: Arc<Outputs> = Arc::default();
        let keyframes: Arc<KeyframeRequests> = Arc::default();
        let mut engine = Engine {
            client,
            study,
            me,
            media,
            ice_servers: joined.ice_servers,
            udp_addrs: options.udp_addrs.clone(),
            sink,
            peers: HashMap::new(),
            outputs: outputs.clone(),
            keyframes: keyframes.clone(),
            pumps: HashMap::new(),
            camera: (options.fps, options.kbps),
            screen: (options.screen_fps, options.screen_kbps),
            joins: 1,
            seated_on,
            rejoining: None,
            refused_rejoins: 0,
        };
        if let Some(camera) = options.camera {
            engine.start_video(TrackKind::Camera, camera, options.fps, options.kbps)?;
        }
        if let Some(mic) = options.mic {
            engine.start_audio(mic)?;
        }
        let others: Vec<UserId> = joined
            .participants
            .iter()
            .map(|p| p.user_id)
            .filter(|u| *u != me)
            .collect();
        for user in others {
            engine.add_peer(user, rules::offers_first(true)).await;
        }
        let (commands, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(engine.run(events, rx));
        Ok(Self {
            commands,
            task: Some(task),
            joined: answer,
        })
    }

    /// The server's answer to the join: who was there, the ICE servers.
    pub fn joined(&self) -> &JoinedCall {
        &self.joined
    }

    /// Starts sharing `source` (replacing a share in progress), or stops with
    /// `None`: every peer renegotiates, and the call's media state says so.
    pub async fn share_screen(&self, source: Option<Box<dyn VideoSource>>) -> Result<()> {
        self.command(|tx| Command::Video(TrackKind::Screen, source, tx))
            .await
    }

    /// Starts sending `source` as the camera (replacing one in progress), or
    /// stops with `None`, as [`Call::share_screen`] does for the screen.
    pub async fn set_camera(&self, source: Option<Box<dyn VideoSource>>) -> Result<()> {
        self.command(|tx| Command::Video(TrackKind::Camera, source, tx))
            .await
    }

    /// Starts sending `source` as the microphone (replacing one in progress),
    /// or stops (mutes) with `None`.
    pub async fn set_mic(&self, source: Option<Box<dyn AudioSource>>) -> Result<()> {
        self.command(|tx| Command::Mic(source, tx)).await
    }

    async fn command(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<()>>) -> Command,
    ) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).map_err(|_| ended())?;
        rx.await.map_err(|_| ended())?
    }

    /// Asks `from` for a keyframe of their `track` (an RTCP PLI on that
    /// peer's connection): for a sink that decodes by itself and lost the
    /// picture (a decoder error, a queue it had to drop), so it need not wait
    /// for the next periodic keyframe. Requests for a peer or track not in
    /// the call are ignored; at most one request per track goes out per
    /// half second.
    pub fn request_keyframe(&self, from: UserId, track: TrackKind) -> Result<()> {
        self.commands
            .send(Command::WantKeyframe(from, track))
            .map_err(|_| ended())
    }

    /// The peers and their negotiation counters.
    pub async fn stats(&self) -> Result<CallStats> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Stats(tx))
            .map_err(|_| ended())?;
        rx.await.map_err(|_| ended())
    }

    /// Leaves the call: stops the sources, closes every peer, tells the server.
    pub async fn leave(mut self) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Leave(tx))
            .map_err(|_| ended())?;
        let left = rx.await.map_err(|_| ended())?;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        left
    }
}

fn ended() -> Error {
    Error::Media {
        step: "call",
        message: "the call has ended".into(),
    }
}

/// The outputs of every peer, for the writers.
type Outputs = Mutex<HashMap<UserId, Arc<PeerOutputs>>>;

/// A local source's thread and its writer.
struct Pump {
    stop: Arc<AtomicBool>,
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Engine {
    client: Client,
    study: StudyId,
    me: UserId,
    media: MediaState,
    ice_servers: Vec<IceServer>,
    udp_addrs: Vec<String>,
    sink: Arc<dyn MediaSink>,
    peers: HashMap<UserId, Peer>,
    outputs: Arc<Outputs>,
    keyframes: Arc<KeyframeRequests>,
    pumps: HashMap<TrackKind, Pump>,
    /// Frame rate and bitrate of the camera and of the screen share.
    camera: (u32, u32),
    screen: (u32, u32),
    joins: u32,
    /// The live connection that holds this user's seat in the call.
    seated_on: u64,
    /// Joining again after a lost connection, while the server refuses.
    rejoining: Option<Rejoining>,
    refused_rejoins: u32,
}

/// A join again that the server refused for now (it still held the old
/// connection's seat): the next try is a timer of the engine's loop, so
/// commands (leave, toggles, stats) are answered meanwhile.
#[derive(Debug, Clone, Copy)]
struct Rejoining {
    /// Tries refused so far.
    refused: u32,
    /// When the next one is due.
    at: tokio::time::Instant,
}

impl Engine {
    async fn run(
        mut self,
        mut events: EventStream,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        loop {
            let retry_at = self.rejoining.map(|r| r.at);
            tokio::select! {
                () = tokio::time::sleep_until(retry_at.unwrap_or_else(tokio::time::Instant::now)),
                    if retry_at.is_some() => self.try_rejoin().await,
                event = events.next() => match event {
                    Some(event) => self.event(event).await,
                    // The client is gone: so is the call.
                    None => break,
                },
                command = commands.recv() => match command {
                    Some(Command::Video(kind, source, done)) => {
                        let _ = done.send(self.set_video(kind, source).await);
                    }
                    Some(Command::Mic(source, done)) => {
                        let _ = done.send(self.set_mic(source).await);
                    }
                    Some(Command::WantKeyframe(from, track)) => {
                        if let Some(peer) = self.peers.get(&from) {
                            let _ = peer.input.send(super::peer::PeerInput::WantKeyframe(track));
                        }
                    }
                    Some(Command::Stats(done)) => {
                        let _ = done.send(self.stats());
                    }
                    Some(Command::Leave(done)) => {
                        let _ = done.send(self.leave().await);
                        return;
                    }
                    None => {
                        if let Err(e) = self.leave().await {
                            tracing::debug!(error = %e, "leaving a dropped call");
                        }
                        return;
                    }
                },
            }
        }
        self.close_peers().await;
    }

    async fn event(&mut self, event: AppEvent) {
        match event {
            // While joining again nobody is offered to: the join's answer
            // names everyone there then.
            AppEvent::CallParticipantJoined {
                study_id,
                participant,
            } if study_id == self.study
                && self.rejoining.is_none()
                && participant.user_id != self.me
                && !self.peers.contains_key(&participant.user_id) =>
            {
                self.add_peer(participant.user_id, rules::offers_first(false))
                    .await;
            }
            AppEvent::CallParticipantLeft { study_id, user_id } if study_id == self.study => {
                if let Some(peer) = self.peers.remove(&user_id) {
                    self.drop_outputs(user_id);
                    peer.close().await;
                }
            }
            AppEvent::CallSignal {
                study_id,
                from,
                signal,
            } if study_id == self.study => {
                // The joiner's offer can overtake the server's news that they
                // joined (the relay is direct, the news goes through the bus);
                // the server relays only between participants, so an offer
                // from someone new starts their peer.
                if !self.peers.contains_key(&from) && matches!(signal, Signal::Offer { .. }) {
                    self.add_peer(from, rules::offers_first(false)).await;
                }
                match self.peers.get(&from) {
                    Some(peer) => {
                        let _ = peer.input.send(super::peer::PeerInput::Remote(signal));
                    }
                    None => tracing::debug!(%from, "a signal from no peer of ours, dropped"),
                }
            }
            // Judged by connection number, not by the events' order: the
            // connecting/online events of the connection that seated us can
            // reach this stream after the join's answer (they come in order
            // with the live frames, whose caching may lag), and taking them
            // for a reconnect left and joined a call we were still in.
            AppEvent::Connection {
                state: ConnectionState::Online,
            } if rules::rejoin(self.seated_on, self.client.live_connection()) => {
                self.rejoin().await;
            }
            _ => {}
        }
    }

    async fn add_peer(&mut self, user: UserId, offer_first: bool) {
        let sending = self.sending();
        let setup = PeerSetup {
            client: self.client.clone(),
            study: self.study,
            me: self.me,
            them: user,
            offer_first,
            sending,
            ice_servers: self.ice_servers.clone(),
            udp_addrs: self.udp_addrs.clone(),
            sink: self.sink.clone(),
            keyframes: self.keyframes.clone(),
        };
        match Peer::start(setup).await {
            Ok(peer) => {
                self.outputs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(user, peer.outputs.clone());
                self.peers.insert(user, peer);
            }
            Err(e) => tracing::warn!(error = %e, peer = %user, "a peer connection failed to start"),
        }
    }

    fn sending(&self) -> Vec<TrackKind> {
        let mut kinds: Vec<TrackKind> = self.pumps.keys().copied().collect();
        kinds.sort_by_key(|k| k.id());
        kinds
    }

    fn drop_outputs(&self, user: UserId) {
        self.outputs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&user);
    }

    async fn close_peers(&mut self) {
        self.outputs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        for (_, peer) in self.peers.drain() {
            peer.close().await;
        }
    }

    /// The seat's connection was lost: every peer is closed and the call
    /// joined again (now, then on the engine's timer while refused).
    async fn rejoin(&mut self) {
        self.close_peers().await;
        self.rejoining = Some(Rejoining {
            refused: 0,
            at: tokio::time::Instant::now(),
        });
        self.try_rejoin().await;
    }

    async fn try_rejoin(&mut self) {
        let Some(mut state) = self.rejoining.take() else {
            return;
        };
        match self
            .client
            .join_call_on_connection(self.study, self.media)
            .await
        {
            Ok((joined, seated_on)) => {
                self.joins += 1;
                self.seated_on = seated_on;
                self.ice_servers = joined.ice_servers;
                for p in joined.participants {
                    if p.user_id != self.me && !self.peers.contains_key(&p.user_id) {
                        self.add_peer(p.user_id, rules::offers_first(true)).await;
                    }
                }
            }
            Err(e) => match rules::rejoin_retry(state.refused, e.code(), e.reason()) {
                Some(wait) => {
                    self.refused_rejoins += 1;
                    state.refused += 1;
                    state.at = tokio::time::Instant::now() + wait;
                    self.rejoining = Some(state);
                }
                None => tracing::warn!(error = %e, "could not join the call again"),
            },
        }
    }

    /// Starts (or replaces) or stops the camera or the screen share.
    async fn set_video(
        &mut self,
        kind: TrackKind,
        source: Option<Box<dyn VideoSource>>,
    ) -> Result<()> {
        let on = source.is_some();
        self.pumps.remove(&kind);
        if let Some(source) = source {
            let (fps, kbps) = if kind == TrackKind::Screen {
                self.screen
            } else {
                self.camera
            };
            self.start_video(kind, source, fps, kbps)?;
        }
        self.sent(kind, on).await
    }

    /// Starts (or replaces) or stops the microphone.
    async fn set_mic(&mut self, source: Option<Box<dyn AudioSource>>) -> Result<()> {
        let on = source.is_some();
        self.pumps.remove(&TrackKind::Mic);
        if let Some(source) = source {
            self.start_audio(source)?;
        }
        self.sent(TrackKind::Mic, on).await
    }

    /// Tells every peer (they renegotiate when their tracks change) and the
    /// call (the signaled media state) that a kind of track is sent or not.
    async fn sent(&mut self, kind: TrackKind, on: bool) -> Result<()> {
        for peer in self.peers.values() {
            let _ = peer.input.send(super::peer::PeerInput::Send(kind, on));
        }
        match kind {
            TrackKind::Mic => self.media.mic = on,
            TrackKind::Camera => self.media.camera = on,
            TrackKind::Screen => self.media.screen = on,
        }
        // Unseated, the next join carries the new state.
        if self.rejoining.is_some() {
            return Ok(());
        }
        self.client.set_media(self.study, self.media).await
    }

    fn stats(&self) -> CallStats {
        let load = |s: &PeerStatus| {
            (
                s.offers.load(Ordering::Relaxed),
                s.ignored_offers.load(Ordering::Relaxed),
                s.rollbacks.load(Ordering::Relaxed),
                s.ice_restarts.load(Ordering::Relaxed),
                s.bad_signals.load(Ordering::Relaxed),
            )
        };
        let mut peers: Vec<PeerStats> = self
            .peers
            .iter()
            .map(|(user, peer)| {
                let (offers, ignored_offers, rollbacks, ice_restarts, bad_signals) =
                    load(&peer.status);
                PeerStats {
                    user_id: *user,
                    polite: rules::is_polite(self.me, *user),
                    state: peer
                        .status
                        .state
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone(),
                    offers,
                    ignored_offers,
                    rollbacks,
                    ice_restarts,
                    bad_signals,
                }
            })
            .collect();
        peers.sort_by_key(|p| p.user_id.to_string());
        CallStats {
            joins: self.joins,
            refused_rejoins: self.refused_rejoins,
            peers,
        }
    }

    async fn leave(&mut self) -> Result<()> {
        self.pumps.clear();
        self.close_peers().await;
        // Not seated while a join again is refused: there is no place to leave.
        if self.rejoining.take().is_some() {
            return Ok(());
        }
        self.client.leave_call(self.study).await
    }

    fn start_video(
        &mut self,
        kind: TrackKind,
        mut source: Box<dyn VideoSource>,
        fps: u32,
        kbps: u32,
    ) -> Result<()> {
        let (w, h) = source.size();
        let mut encoder = Vp8Encoder::new(w, h, fps, kbps)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Bytes>(4);
        let keyframes = self.keyframes.clone();
        let frame_time = Duration::from_secs(1) / fps.max(1);
        let halt = stop.clone();
        std::thread::Builder::new()
            .name(format!("coup-{}", kind.id()))
            .spawn(move || {
                let mut next = Instant::now();
                while !halt.load(Ordering::Relaxed) {
                    let frame = match source.next_frame() {
                        Ok(f) => f,
                        Err(e) => {
                            tracing::warn!(error = %e, "a video source failed");
                            break;
                        }
                    };
                    let keyframe = keyframes.take(kind);
                    match encoder.encode(&frame, keyframe) {
                        Ok(frames) => {
                            for f in frames {
                                if tx.blocking_send(Bytes::from(f.data)).is_err() {
                                    return;
                                }
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "encoding a frame"),
                    }
                    next += frame_time;
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    } else {
                        // Late (slow capture): start the clock again rather
                        // than bursting to catch up.
                        next = now;
                    }
                }
            })
            .map_err(|e| Error::Media {
                step: "video thread",
                message: e.to_string(),
            })?;
        tokio::spawn(write(kind, rx, self.outputs.clone(), frame_time));
        self.pumps.insert(kind, Pump { stop });
        Ok(())
    }

    fn start_audio(&mut self, mut source: Box<dyn AudioSource>) -> Result<()> {
        let mut encoder = OpusEncoder::new()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Bytes>(8);
        let halt = stop.clone();
        let frame_time = Duration::from_millis(20);
        std::thread::Builder::new()
            .name("coup-mic".into())
            .spawn(move || {
                let mut pcm = vec![0i16; AUDIO_FRAME];
                let mut next = Instant::now();
                while !halt.load(Ordering::Relaxed) {
                    if let Err(e) = source.fill(&mut pcm) {
                        tracing::warn!(error = %e, "an audio source failed");
                        break;
                    }
                    match encoder.encode(&pcm) {
                        Ok(packet) => {
                            if tx.blocking_send(Bytes::from(packet)).is_err() {
                                return;
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "encoding audio"),
                    }
                    next += frame_time;
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    } else {
                        next = now;
                    }
                }
            })
            .map_err(|e| Error::Media {
                step: "audio thread",
                message: e.to_string(),
            })?;
        tokio::spawn(write(TrackKind::Mic, rx, self.outputs.clone(), frame_time));
        self.pumps.insert(TrackKind::Mic, Pump { stop });
        Ok(())
    }
}

/// Fans encoded frames of one kind out to every peer's track of that kind.
async fn write(
    kind: TrackKind,
    mut rx: mpsc::Receiver<Bytes>,
    outputs: Arc<Outputs>,
    duration: Duration,
) {
    while let Some(data) = rx.recv().await {
        let writers: Vec<_> = outputs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter_map(|o| o.writer(kind))
            .collect();
        let sample = Sample {
            data,
            duration,
            ..Sample::new(Instant::now())
        };
        for (track, ssrc, pt) in writers {
            if let Err(e) = track.sample_writer(ssrc, pt).write_sample(&sample).await {
                tracing::debug!(error = %e, "writing a sample");
            }
        }
    }
}
