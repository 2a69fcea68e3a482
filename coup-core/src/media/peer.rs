//! One peer connection to one other participant, run by one task.
//!
//! Everything that touches the connection — remote signals, its own events
//! (candidates, state changes, remote tracks), local tracks coming and going —
//! arrives as a [`PeerInput`] on one queue and is handled in order, so the
//! negotiation state is this task's alone and never raced: the signaling state
//! is tracked here from the descriptions this task applied, and [`rules`]
//! decides what to do with every offer, answer and candidate.
//!
//! Media does not pass through the task: the engine's encoders write into the
//! local tracks listed in [`PeerOutputs`], and each remote track gets a reader
//! task that reassembles, decodes and hands frames to the [`MediaSink`].

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtc::media::io::sample_builder::SampleBuilder;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceConnectionState, RTCIceServer,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription, Registry,
    register_default_interceptors,
};
use webrtc::rtp_transceiver::RtpSender;

use super::codec::{EncodedFrame, OpusDecoder, Vp8Decoder};
use super::feedback::{self, KeyframeRequestsToApp, asks_for_keyframe};
use super::rules::{self, AnswerAction, CandidateAction, Ice, Negotiation, OfferAction};
use super::{MediaSink, TrackKind};
use crate::client::{Client, Signal};
use crate::error::{Error, Result};
use crate::ids::{StudyId, UserId};
use crate::realtime::protocol::IceServer;

/// VP8's and Opus's payload types in our offers (the answerer's choice wins;
/// writers use the negotiated one).
const VP8_PT: u8 = 96;
const OPUS_PT: u8 = 111;
/// How long an ICE disconnection may heal by itself before a restart.
const ICE_GRACE: Duration = Duration::from_secs(3);
/// At most one keyframe request per remote video track per this long.
const PLI_INTERVAL: Duration = Duration::from_millis(500);
/// How often a local track's RTCP listener looks again while the track is
/// not bound to the connection (not negotiated yet, or being renegotiated).
const UNBOUND_POLL: Duration = Duration::from_millis(20);

fn webrtc_error(step: &'static str) -> impl Fn(webrtc::error::Error) -> Error {
    move |e| Error::Media {
        step,
        message: e.to_string(),
    }
}

fn vp8() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "video/VP8".to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: ["nack", "nack pli", "ccm fir"]
            .iter()
            .map(|f| {
                let (typ, parameter) = f.split_once(' ').unwrap_or((f, ""));
                RTCPFeedback {
                    typ: typ.to_owned(),
                    parameter: parameter.to_owned(),
                }
            })
            .collect(),
    }
}

fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "audio/opus".to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// Where the engine's encoders write for one peer: the local track of each
/// kind being sent, once its payload type is negotiated.
#[derive(Default)]
pub struct PeerOutputs {
    tracks: Mutex<HashMap<TrackKind, LocalTrack>>,
}

#[derive(Clone)]
struct LocalTrack {
    track: Arc<TrackLocalStaticSample>,
    ssrc: u32,
    payload_type: Option<u8>,
}

impl PeerOutputs {
    /// The track to write `kind` into, with its SSRC and payload type; `None`
    /// while not sent or not yet negotiated.
    pub(crate) fn writer(&self, kind: TrackKind) -> Option<(Arc<TrackLocalStaticSample>, u32, u8)> {
        let tracks = self.tracks.lock().unwrap_or_else(|e| e.into_inner());
        let t = tracks.get(&kind)?;
        Some((t.track.clone(), t.ssrc, t.payload_type?))
    }

    fn set(&self, kind: TrackKind, track: LocalTrack) {
        let mut tracks = self.tracks.lock().unwrap_or_else(|e| e.into_inner());
        tracks.insert(kind, track);
    }

    fn take(&self, kind: TrackKind) -> Option<LocalTrack> {
        let mut tracks = self.tracks.lock().unwrap_or_else(|e| e.into_inner());
        tracks.remove(&kind)
    }

    fn set_payload_type(&self, kind: TrackKind, pt: u8) {
        let mut tracks = self.tracks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = tracks.get_mut(&kind) {
            t.payload_type = Some(pt);
        }
    }
}

/// Keyframe requests for the engine's video encoders (a peer connected, or a
/// receiver lost packets).
#[derive(Default)]
pub struct KeyframeRequests {
    camera: AtomicBool,
    screen: AtomicBool,
}

impl KeyframeRequests {
    /// Asks the encoder of `kind` for a keyframe.
    pub fn request(&self, kind: TrackKind) {
        match kind {
            TrackKind::Camera => self.camera.store(true, Ordering::Relaxed),
            TrackKind::Screen => self.screen.store(true, Ordering::Relaxed),
            TrackKind::Mic => {}
        }
    }

    /// Whether a keyframe was asked for since the last call (and clears it).
    pub fn take(&self, kind: TrackKind) -> bool {
        match kind {
            TrackKind::Camera => self.camera.swap(false, Ordering::Relaxed),
            TrackKind::Screen => self.screen.swap(false, Ordering::Relaxed),
            TrackKind::Mic => false,
        }
    }
}

/// What the engine knows of one peer connection.
#[derive(Debug, Default)]
pub struct PeerStatus {
    /// The connection state, as WebRTC names it.
    pub state: Mutex<String>,
    /// Offers this side sent.
    pub offers: AtomicU32,
    /// Offers ignored on glare (this side impolite).
    pub ignored_offers: AtomicU32,
    /// Own offers rolled back on glare (this side polite).
    pub rollbacks: AtomicU32,
    /// ICE restarts this side started.
    pub ice_restarts: AtomicU32,
    /// Signals refused as malformed (bad SDP, bad candidate).
    pub bad_signals: AtomicU32,
}

/// What the peer task handles, in order.
pub enum PeerInput {
    /// A signal from the other participant.
    Remote(Signal),
    /// Start or stop sending a kind of track.
    Send(TrackKind, bool),
    /// The connection gathered a local candidate.
    Candidate(RTCIceCandidateInit),
    /// ICE connectivity changed.
    Ice(RTCIceConnectionState),
    /// The connection's overall state changed.
    State(RTCPeerConnectionState),
    /// A remote track arrived.
    Track(Arc<dyn TrackRemote>),
    /// The sink lost the picture of a remote video track (its own decoder
    /// failed or fell behind): ask the sender for a keyframe.
    WantKeyframe(TrackKind),
}

/// Forwards the connection's callbacks to the task's queue: callbacks run on
/// the connection's driver, which must not wait for the task.
struct Forward(mpsc::UnboundedSender<PeerInput>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Forward {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.0.send(PeerInput::Candidate(init));
        }
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        let _ = self.0.send(PeerInput::Ice(state));
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.0.send(PeerInput::State(state));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.0.send(PeerInput::Track(track));
    }
}

/// Hands a local track's keyframe requests (PLI/FIR from the receiver) to
/// the encoder of its kind, for as long as the track exists (sent, or kept
/// idle to be sent again). They come here only while the other side sends no
/// track of the same id; otherwise webrtc hands them to the reader of that
/// remote track (see [`ReaderInputs::encoders`]). The track is bound to the
/// connection only once negotiated, and until then `poll` answers `None` at
/// once: the listener waits that out rather than ending, or no request would
/// ever be heard and a receiver that starts mid-stream (or lost the picture)
/// would wait for the periodic keyframe.
async fn listen_for_keyframe_requests(
    track: std::sync::Weak<TrackLocalStaticSample>,
    kind: TrackKind,
    keyframes: Arc<KeyframeRequests>,
) {
    loop {
        let Some(track) = track.upgrade() else { return };
        match track.poll().await {
            Some(TrackLocalEvent::OnRtcpPacket(packets)) => {
                if packets.iter().any(|p| asks_for_keyframe(p.as_ref())) {
                    keyframes.request(kind);
                }
            }
            Some(_) => {}
            None => {
                drop(track);
                tokio::time::sleep(UNBOUND_POLL).await;
            }
        }
    }
}

/// What a peer connection is set up with.
pub struct PeerSetup {
    /// The client that carries the signaling.
    pub client: Client,
    /// The call's study.
    pub study: StudyId,
    /// This user.
    pub me: UserId,
    /// The other participant.
    pub them: UserId,
    /// Whether this side sends the first offer.
    pub offer_first: bool,
    /// The kinds of track to send from the start.
    pub sending: Vec<TrackKind>,
    /// STUN/TURN servers (from the call's `welcome`/`callJoined`).
    pub ice_servers: Vec<IceServer>,
    /// Local addresses to gather host candidates on (`0.0.0.0:0`, or
    /// `127.0.0.1:0` for loopback-only tests).
    pub udp_addrs: Vec<String>,
    /// Where received media goes.
    pub sink: Arc<dyn MediaSink>,
    /// The encoders' keyframe requests.
    pub keyframes: Arc<KeyframeRequests>,
}

/// A running peer: its queue, its outputs and its status.
pub struct Peer {
    /// Its queue.
    pub input: mpsc::UnboundedSender<PeerInput>,
    /// Where encoders write for it.
    pub outputs: Arc<PeerOutputs>,
    /// What it reports.
    pub status: Arc<PeerStatus>,
    pc: Arc<dyn PeerConnection>,
    task: tokio::task::JoinHandle<()>,
}

impl Peer {
    /// Builds the connection and starts its task.
    pub async fn start(setup: PeerSetup) -> Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut media = MediaEngine::default();
        media
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: vp8(),
                    payload_type: VP8_PT,
                },
                RtpCodecKind::Video,
            )
            .map_err(webrtc_error("VP8 codec"))?;
        media
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: opus(),
                    payload_type: OPUS_PT,
                },
                RtpCodecKind::Audio,
            )
            .map_err(webrtc_error("Opus codec"))?;
        // NACK and RTCP reports; receivers' keyframe requests reach the
        // encoders (the default chain would stop them).
        let registry = register_default_interceptors(Registry::new(), &mut media)
            .map_err(webrtc_error("interceptors"))?
            .with(
                rtc::interceptor::Slot::Custom(feedback::SLOT),
                KeyframeRequestsToApp::default(),
            );
        let config = RTCConfigurationBuilder::new()
            .with_ice_servers(
                setup
                    .ice_servers
                    .iter()
                    .map(|s| RTCIceServer {
                        urls: s.urls.clone(),
                        username: s.username.clone().unwrap_or_default(),
                        credential: s.credential.clone().unwrap_or_default(),
                    })
                    .collect(),
            )
            .build();
        let pc = PeerConnectionBuilder::new()
            .with_configuration(config)
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Forward(tx.clone())))
            .with_udp_addrs(setup.udp_addrs.clone())
            .build()
            .await
            .map_err(webrtc_error("peer connection"))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let outputs = Arc::new(PeerOutputs::default());
        let status = Arc::new(PeerStatus::default());
        let mut task = PeerTask {
            polite: rules::is_polite(setup.me, setup.them),
            pc: pc.clone(),
            state: Negotiation::Stable,
            has_remote: false,
            held: VecDeque::new(),
            renegotiate: false,
            senders: HashMap::new(),
            outputs: outputs.clone(),
            status: status.clone(),
            ice: (Ice::Working, Instant::now()),
            readers: HashMap::new(),
            remote: HashMap::new(),
            idle: HashMap::new(),
            setup,
        };
        for kind in task.setup.sending.clone() {
            task.add_track(kind).await?;
        }
        let offer_first = task.setup.offer_first;
        let handle = tokio::spawn(async move { task.run(rx, offer_first).await });
        Ok(Self {
            input: tx,
            outputs,
            status,
            pc,
            task: handle,
        })
    }

    /// Closes the connection (its remote tracks end) and stops the task.
    pub async fn close(self) {
        self.task.abort();
        if let Err(e) = self.pc.close().await {
            tracing::debug!(error = %e, "closing a peer connection");
        }
    }
}

/// How the peer task reaches the reader of one remote track.
struct Reader {
    /// Stops it.
    stop: tokio::sync::watch::Sender<bool>,
    /// Makes it ask the sender for a keyframe.
    keyframe: Arc<tokio::sync::Notify>,
}

struct PeerTask {
    setup: PeerSetup,
    polite: bool,
    pc: Arc<dyn PeerConnection>,
    /// The signaling state, from the descriptions this task applied.
    state: Negotiation,
    has_remote: bool,
    /// Candidates that came before a remote description.
    held: VecDeque<RTCIceCandidateInit>,
    /// A change waits for the current negotiation to finish.
    renegotiate: bool,
    senders: HashMap<TrackKind, Arc<dyn RtpSender>>,
    outputs: Arc<PeerOutputs>,
    status: Arc<PeerStatus>,
    ice: (Ice, Instant),
    /// The reader of each remote track being received.
    readers: HashMap<TrackKind, Reader>,
    /// Every remote track seen: a track the other side stops and sends again
    /// comes back on the same object (no new `on_track`).
    remote: HashMap<TrackKind, Arc<dyn TrackRemote>>,
    /// Local tracks taken off the connection, kept to send again under the
    /// same SSRC and id, so the receiver's track object carries on.
    idle: HashMap<TrackKind, (Arc<TrackLocalStaticSample>, u32)>,
}

impl PeerTask {
    async fn run(&mut self, mut rx: mpsc::UnboundedReceiver<PeerInput>, offer_first: bool) {
        if offer_first {
            self.negotiate().await;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                input = rx.recv() => match input {
                    Some(input) => self.handle(input).await,
                    None => return,
                },
                _ = tick.tick() => self.check_ice().await,
            }
        }
    }

    async fn handle(&mut self, input: PeerInput) {
        match input {
            PeerInput::Remote(signal) => self.remote(signal).await,
            PeerInput::Send(kind, on) => {
                let changed = if on {
                    !self.senders.contains_key(&kind) && self.add_track(kind).await.is_ok()
                } else {
                    self.remove_track(kind).await
                };
                if changed {
                    self.negotiate().await;
                }
            }
            PeerInput::Candidate(c) => {
                let signal = Signal::IceCandidate {
                    candidate: c.candidate,
                    sdp_mid: c.sdp_mid,
                    sdp_m_line_index: c.sdp_mline_index,
                };
                self.send(signal).await;
            }
            PeerInput::Ice(state) => {
                let ice = match state {
                    RTCIceConnectionState::Disconnected => Ice::Disconnected,
                    RTCIceConnectionState::Failed => Ice::Failed,
                    _ => Ice::Working,
                };
                if ice != self.ice.0 {
                    self.ice = (ice, Instant::now());
                }
                self.check_ice().await;
            }
            PeerInput::State(state) => {
                if state == RTCPeerConnectionState::Connected {
                    // A new receiver needs a keyframe to start decoding.
                    self.setup.keyframes.request(TrackKind::Camera);
                    self.setup.keyframes.request(TrackKind::Screen);
                }
                *self.status.state.lock().unwrap_or_else(|e| e.into_inner()) = state.to_string();
            }
            PeerInput::Track(track) => {
                let audio = track.kind().await == RtpCodecKind::Audio;
                let kind = TrackKind::from_id(&track.track_id().await, audio);
                self.remote.insert(kind, track);
                self.read(kind);
            }
            PeerInput::WantKeyframe(kind) => {
                if let Some(reader) = self.readers.get(&kind) {
                    reader.keyframe.notify_one();
                }
            }
        }
    }

    async fn send(&self, signal: Signal) {
        let s = &self.setup;
        if let Err(e) = s.client.send_signal(s.study, s.them, signal).await {
            // The socket is down or the peer left: the engine rebuilds the
            // connection when it is back, so a lost signal is not fatal.
            tracing::debug!(error = %e, peer = %s.them, "a signal was not sent");
        }
    }

    async fn add_track(&mut self, kind: TrackKind) -> Result<()> {
        let (track, ssrc) = match self.idle.remove(&kind) {
            Some(idle) => idle,
            None => self.new_track(kind)?,
        };
        let sender = self
            .pc
            .add_track(track.clone() as Arc<dyn TrackLocal>)
            .await
            .map_err(webrtc_error("add track"))?;
        self.senders.insert(kind, sender);
        self.outputs.set(
            kind,
            LocalTrack {
                track: track.clone(),
                ssrc,
                payload_type: None,
            },
        );
        Ok(())
    }

    fn new_track(&self, kind: TrackKind) -> Result<(Arc<TrackLocalStaticSample>, u32)> {
        let ssrc = u32::from_le_bytes(
            uuid::Uuid::new_v4().as_bytes()[..4]
                .try_into()
                .unwrap_or([1, 2, 3, 4]),
        );
        let (codec, rtp_kind) = match kind {
            TrackKind::Mic => (opus(), RtpCodecKind::Audio),
            TrackKind::Camera | TrackKind::Screen => (vp8(), RtpCodecKind::Video),
        };
        let track = MediaStreamTrack::new(
            self.setup.me.to_string(),
            kind.id().to_owned(),
            kind.id().to_owned(),
            rtp_kind,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec,
                ..Default::default()
            }],
        );
        let track = Arc::new(
            TrackLocalStaticSample::new(Instant::now(), track)
                .map_err(webrtc_error("local track"))?,
        );
        tokio::spawn(listen_for_keyframe_requests(
            Arc::downgrade(&track),
            kind,
            self.setup.keyframes.clone(),
        ));
        Ok((track, ssrc))
    }

    async fn remove_track(&mut self, kind: TrackKind) -> bool {
        let Some(sender) = self.senders.remove(&kind) else {
            return false;
        };
        let taken = self.outputs.take(kind);
        if let Some(t) = taken {
            self.idle.insert(kind, (t.track, t.ssrc));
        }
        if let Err(e) = self.pc.remove_track(&sender).await {
            tracing::warn!(error = %e, "removing a track");
        }
        true
    }

    /// Offers the current tracks, now if stable, else once stable.
    async fn negotiate(&mut self) {
        if self.state != Negotiation::Stable {
            self.renegotiate = true;
            return;
        }
        self.renegotiate = false;
        let offer = match self.pc.create_offer(None).await {
            Ok(offer) => offer,
            Err(e) => return tracing::warn!(error = %e, "creating an offer"),
        };
        if let Err(e) = self.pc.set_local_description(offer).await {
            return tracing::warn!(error = %e, "applying our offer");
        }
        self.state = Negotiation::HaveLocalOffer;
        let Some(local) = self.pc.local_description().await else {
            return;
        };
        self.status.offers.fetch_add(1, Ordering::Relaxed);
        self.send(Signal::Offer { sdp: local.sdp }).await;
    }

    async fn remote(&mut self, signal: Signal) {
        match signal {
            Signal::Offer { sdp } => self.remote_offer(sdp).await,
            Signal::Answer { sdp } => {
                if rules::on_answer(self.state) == AnswerAction::Drop {
                    return;
                }
                let sent = rules::sent_tracks(&sdp);
                let applied = match RTCSessionDescription::answer(sdp) {
                    Ok(answer) => self.pc.set_remote_description(answer).await,
                    Err(e) => Err(e),
                };
                match applied {
                    Ok(()) => {
                        self.state = Negotiation::Stable;
                        self.has_remote = true;
                        self.follow_sent(&sent);
                        for c in std::mem::take(&mut self.held) {
                            self.apply_candidate(c).await;
                        }
                        self.stable(false).await;
                    }
                    Err(e) => self.bad(e, "an answer"),
                }
            }
            Signal::IceCandidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
            } => {
                let init = RTCIceCandidateInit {
                    candidate,
                    sdp_mid,
                    sdp_mline_index: sdp_m_line_index,
                    ..Default::default()
                };
                match rules::on_candidate(self.has_remote) {
                    CandidateAction::Apply => self.apply_candidate(init).await,
                    CandidateAction::Hold => {
                        if self.held.len() == rules::MAX_HELD_CANDIDATES {
                            self.held.pop_front();
                        }
                        self.held.push_back(init);
                    }
                }
            }
        }
    }

    async fn remote_offer(&mut self, sdp: String) {
        let sent = rules::sent_tracks(&sdp);
        let offer = match RTCSessionDescription::offer(sdp) {
            Ok(offer) => offer,
            Err(e) => return self.bad(e, "an offer"),
        };
        match rules::on_offer(self.polite, false, self.state) {
            OfferAction::Drop => return,
            OfferAction::Ignore => {
                self.status.ignored_offers.fetch_add(1, Ordering::Relaxed);
                return;
            }
            OfferAction::RollbackAndAnswer => {
                let rollback = match RTCSessionDescription::rollback(None) {
                    Ok(r) => r,
                    Err(e) => return tracing::warn!(error = %e, "a rollback"),
                };
                if let Err(e) = self.pc.set_local_description(rollback).await {
                    return tracing::warn!(error = %e, "rolling our offer back");
                }
                self.status.rollbacks.fetch_add(1, Ordering::Relaxed);
                self.state = Negotiation::Stable;
                // Our change still has to reach them: offer it after answering.
                self.renegotiate = true;
            }
            OfferAction::Answer => {}
        }
        if let Err(e) = self.pc.set_remote_description(offer).await {
            return self.bad(e, "an offer");
        }
        self.state = Negotiation::HaveRemoteOffer;
        self.has_remote = true;
        self.follow_sent(&sent);
        for c in std::mem::take(&mut self.held) {
            self.apply_candidate(c).await;
        }
        let answer = match self.pc.create_answer(None).await {
            Ok(a) => a,
            Err(e) => return tracing::warn!(error = %e, "creating an answer"),
        };
        if let Err(e) = self.pc.set_local_description(answer).await {
            return tracing::warn!(error = %e, "applying our answer");
        }
        self.state = Negotiation::Stable;
        if let Some(local) = self.pc.local_description().await {
            self.send(Signal::Answer { sdp: local.sdp }).await;
        }
        self.stable(true).await;
    }

    /// Starts (or restarts) the reader of the remote track of `kind`.
    fn read(&mut self, kind: TrackKind) {
        let Some(track) = self.remote.get(&kind).cloned() else {
            return;
        };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let keyframe = Arc::new(tokio::sync::Notify::new());
        let reader = Reader {
            stop,
            keyframe: keyframe.clone(),
        };
        if let Some(old) = self.readers.insert(kind, reader) {
            let _ = old.stop.send(true);
        }
        let sink = self.setup.sink.clone();
        let wanted = ReaderInputs {
            stopped,
            keyframe,
            encoders: self.setup.keyframes.clone(),
        };
        tokio::spawn(read_track(self.setup.them, kind, track, sink, wanted));
    }

    /// Follows the other side's latest description: readers of tracks it no
    /// longer sends stop (the sink hears the track end); tracks it sends again
    /// are read again.
    fn follow_sent(&mut self, sent: &[String]) {
        let is_sent = |kind: &TrackKind| sent.iter().any(|id| id == kind.id());
        self.readers.retain(|kind, reader| {
            let still = is_sent(kind);
            if !still {
                let _ = reader.stop.send(true);
            }
            still
        });
        let again: Vec<TrackKind> = self
            .remote
            .keys()
            .filter(|k| is_sent(k) && !self.readers.contains_key(k))
            .copied()
            .collect();
        for kind in again {
            self.read(kind);
        }
    }

    async fn apply_candidate(&mut self, init: RTCIceCandidateInit) {
        if init.candidate.is_empty() {
            return; // End of candidates: nothing to apply.
        }
        if let Err(e) = self.pc.add_ice_candidate(init).await {
            self.bad(e, "a candidate");
        }
    }

    /// A negotiation finished: writers learn the negotiated payload types, and
    /// a change that waited is offered. After answering, a track of ours the
    /// offer had no section for (we added it while their offer was on its way)
    /// still has no codec: it needs an offer of our own.
    async fn stable(&mut self, answered: bool) {
        let mut unsent = false;
        for (kind, sender) in &self.senders {
            match sender.get_parameters().await {
                Ok(params) if !params.rtp_parameters.codecs.is_empty() => {
                    let pt = params.rtp_parameters.codecs[0].payload_type;
                    self.outputs.set_payload_type(*kind, pt);
                }
                _ => unsent = true,
            }
        }
        self.setup.keyframes.request(TrackKind::Camera);
        self.setup.keyframes.request(TrackKind::Screen);
        if self.renegotiate || (answered && unsent) {
            self.negotiate().await;
        }
    }

    async fn check_ice(&mut self) {
        let (state, since) = self.ice;
        if rules::restart_ice(self.polite, state, since.elapsed(), ICE_GRACE) {
            if let Err(e) = self.pc.restart_ice().await {
                return tracing::warn!(error = %e, "restarting ICE");
            }
            self.status.ice_restarts.fetch_add(1, Ordering::Relaxed);
            self.ice = (Ice::Working, Instant::now());
            self.negotiate().await;
        }
    }

    /// A signal the other side sent that cannot be applied: counted and
    /// dropped; the call goes on.
    fn bad(&self, e: webrtc::error::Error, what: &str) {
        self.status.bad_signals.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(error = %e, peer = %self.setup.them, "refused {what}");
    }
}

/// What the peer task tells a reader besides its packets.
struct ReaderInputs {
    /// Becomes `true` when the reader should stop.
    stopped: tokio::sync::watch::Receiver<bool>,
    /// Notified when the sink asks for a keyframe.
    keyframe: Arc<tokio::sync::Notify>,
    /// Our encoders' keyframe requests: webrtc routes inbound RTCP by track
    /// id, looking at remote tracks first, and our tracks share their ids
    /// (`camera`, `screen`) with the other side's — so the other side's
    /// PLI/FIR for our camera arrives on the reader of *their* camera.
    encoders: Arc<KeyframeRequests>,
}

/// Reads one remote track until it ends (or the other side's description no
/// longer sends it): reassembles VP8 frames (or takes Opus
/// packets), decodes them and hands them to the sink. It asks the sender for
/// a keyframe (PLI) when it cannot decode — lost packets, a decoder error —
/// and when the sink asks ([`PeerInput::WantKeyframe`]).
async fn read_track(
    from: UserId,
    kind: TrackKind,
    track: Arc<dyn TrackRemote>,
    sink: Arc<dyn MediaSink>,
    inputs: ReaderInputs,
) {
    let ReaderInputs {
        mut stopped,
        keyframe: keyframe_wanted,
        encoders,
    } = inputs;
    let audio = kind == TrackKind::Mic;
    let media_ssrc = track.ssrcs().await.first().copied().unwrap_or(0);
    sink.track_started(from, kind);
    let mut video = if audio {
        None
    } else {
        // Up to 60 packets of reordering, and a frame waits for lost packets
        // at most 100 ms before it is given up on.
        let builder = SampleBuilder::new(60, Vp8Packet::default(), 90_000)
            .with_max_time_delay(Duration::from_millis(100));
        Some((builder, Vp8Decoder::new().ok()))
    };
    let mut opus = if audio { OpusDecoder::new().ok() } else { None };
    let mut last_pli = Instant::now() - PLI_INTERVAL;
    // This side cannot decode until a keyframe comes.
    let mut need_keyframe = true;
    // The sink asked for a keyframe and none has come since.
    let mut sink_wants_keyframe = false;
    loop {
        let event = tokio::select! {
            event = track.poll() => event,
            _ = stopped.changed() => None,
            () = keyframe_wanted.notified() => {
                sink_wants_keyframe = !audio;
                if sink_wants_keyframe && last_pli.elapsed() >= PLI_INTERVAL {
                    last_pli = Instant::now();
                    send_pli(track.as_ref(), media_ssrc).await;
                }
                continue;
            }
        };
        let Some(event) = event else { break };
        let packet = match event {
            TrackRemoteEvent::OnRtpPacket(packet) => packet,
            TrackRemoteEvent::OnRtcpPacket(packets) => {
                if packets.iter().any(|p| asks_for_keyframe(p.as_ref())) {
                    encoders.request(kind);
                }
                continue;
            }
            TrackRemoteEvent::OnEnded => break,
            _ => continue,
        };
        if let Some(decoder) = opus.as_mut() {
            if let Ok(pcm) = decoder.decode(&packet.payload) {
                sink.audio(from, pcm);
            }
            continue;
        }
        let Some((builder, decoder)) = video.as_mut() else {
            continue;
        };
        let now = Instant::now();
        builder.push(now, packet);
        while let Some(sample) = builder.pop(now) {
            let frame = EncodedFrame {
                keyframe: sample.data.first().is_some_and(|b| b & 1 == 0),
                data: sample.data.to_vec(),
            };
            if sample.prev_dropped_packets > 0 && !frame.keyframe {
                need_keyframe = true;
            }
            if need_keyframe && !frame.keyframe {
                continue;
            }
            need_keyframe = false;
            if frame.keyframe {
                sink_wants_keyframe = false;
            }
            sink.encoded_video(from, kind, &frame);
            if !sink.wants_decoded_video() {
                continue;
            }
            match decoder.as_mut().map(|d| d.decode(&frame.data)) {
                Some(Ok(frames)) => {
                    for f in frames {
                        sink.video(from, kind, &f);
                    }
                }
                _ => need_keyframe = true,
            }
        }
        if (need_keyframe || sink_wants_keyframe) && last_pli.elapsed() >= PLI_INTERVAL {
            last_pli = Instant::now();
            send_pli(track.as_ref(), media_ssrc).await;
        }
    }
    sink.track_ended(from, kind);
}

/// Asks the sender of `media_ssrc` for a keyframe (RTCP PLI).
async fn send_pli(track: &dyn TrackRemote, media_ssrc: u32) {
    let pli = PictureLossIndication {
        sender_ssrc: 0,
        media_ssrc,
    };
    if let Err(e) = track.write_rtcp(vec![Box::new(pli)]).await {
        tracing::debug!(error = %e, "a keyframe request was not sent");
    }
}
