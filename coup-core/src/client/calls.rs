//! Call signaling over the live connection: join and leave a study's call, send
//! offers, answers and ICE candidates ([`Signal`]) to other participants, and
//! tell the call about this user's media. What others send arrives as
//! [`super::AppEvent`]s. The WebRTC media itself is the app's (or the `media`
//! engine's).

use serde::{Deserialize, Serialize};

use super::events::Signal;
use super::live::Live;
use crate::error::{Error, Result};
use crate::ids::{StudyId, UserId};
use crate::realtime::calls::{MediaState, Participant};
use crate::realtime::protocol::{ClientFrame, IceServer, ServerFrame};

/// The call as the joiner finds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct JoinedCall {
    /// Everyone in the call, the joiner last.
    pub participants: Vec<Participant>,
    /// STUN/TURN servers for the peer connections.
    pub ice_servers: Vec<IceServer>,
}

/// Joins the study's call (the caller must follow the study); with the number
/// of the live connection that holds the seat.
pub(crate) async fn join(
    live: &Live,
    study_id: StudyId,
    media: MediaState,
) -> Result<(JoinedCall, u64)> {
    match live
        .request_on(ClientFrame::CallJoin {
            request_id: None,
            study_id,
            media,
        })
        .await?
    {
        (
            ServerFrame::CallJoined {
                participants,
                ice_servers,
                ..
            },
            connection,
        ) => Ok((
            JoinedCall {
                participants,
                ice_servers,
            },
            connection,
        )),
        (other, _) => Err(unexpected(&other)),
    }
}

/// Leaves the study's call.
pub(crate) async fn leave(live: &Live, study_id: StudyId) -> Result<()> {
    acked(
        live,
        ClientFrame::CallLeave {
            request_id: None,
            study_id,
        },
    )
    .await
}

/// Sends an offer, answer or ICE candidate to one participant.
pub(crate) async fn signal(
    live: &Live,
    study_id: StudyId,
    to: UserId,
    signal: &Signal,
) -> Result<()> {
    let (kind, payload) = signal.to_wire();
    acked(
        live,
        ClientFrame::Signal {
            request_id: None,
            study_id,
            to,
            kind,
            payload,
        },
    )
    .await
}

/// Tells the call about this user's microphone, camera and screen share.
pub(crate) async fn set_media(live: &Live, study_id: StudyId, media: MediaState) -> Result<()> {
    acked(
        live,
        ClientFrame::Media {
            request_id: None,
            study_id,
            media,
        },
    )
    .await
}

async fn acked(live: &Live, frame: ClientFrame) -> Result<()> {
    match live.request(frame).await? {
        ServerFrame::Ack { .. } => Ok(()),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(frame: &ServerFrame) -> Error {
    Error::bad_response(
        "reading the answer to a call request",
        format!(
            "unexpected frame {}",
            serde_json::to_string(frame).unwrap_or_default()
        ),
    )
}
