//! The call engine's decisions as plain functions: who is polite, who offers
//! first, what to do with an offer that collides with our own (glare), when a
//! candidate can be applied, when ICE is restarted, and when (and how often)
//! the engine joins the call again. The peer tasks only carry these decisions out, so every rule
//! is tested here without a network.
//!
//! Perfect negotiation (W3C WebRTC, §10.7): both sides may offer whenever their
//! tracks change. When offers cross, the *impolite* side ignores the incoming
//! one and keeps its own; the *polite* side rolls its own back, answers, and
//! offers its change again afterwards. Exactly one side of every pair is polite,
//! decided by comparing user ids, so the pair agrees without exchanging a word.

use crate::error::{ErrorCode, Reason};
use crate::ids::UserId;

/// Whether this side yields on glare. The larger user id is polite: any total
/// order works as long as both sides compute the same one.
pub fn is_polite(me: UserId, them: UserId) -> bool {
    me.to_string() > them.to_string()
}

/// Whether this side sends the first offer to a peer. The one who joins offers
/// to everyone already in the call; those already there wait for it, so a join
/// costs one offer per pair and glare only happens on later renegotiations.
pub fn offers_first(i_am_the_joiner: bool) -> bool {
    i_am_the_joiner
}

/// The signaling state, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiation {
    /// No offer outstanding.
    Stable,
    /// Our offer is out, no answer yet.
    HaveLocalOffer,
    /// Their offer is applied, our answer not yet.
    HaveRemoteOffer,
    /// The connection is closed.
    Closed,
}

/// What to do with an offer that arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferAction {
    /// Apply it and answer.
    Answer,
    /// Roll our own offer back, then apply it and answer; offer our change again
    /// once stable.
    RollbackAndAnswer,
    /// Keep our offer; the other side (polite) will roll back and answer it.
    Ignore,
    /// The connection is closed: drop it.
    Drop,
}

/// The perfect-negotiation rule for an incoming offer.
pub fn on_offer(polite: bool, making_offer: bool, state: Negotiation) -> OfferAction {
    if state == Negotiation::Closed {
        return OfferAction::Drop;
    }
    let collision = making_offer || state != Negotiation::Stable;
    match (collision, polite) {
        (false, _) => OfferAction::Answer,
        (true, false) => OfferAction::Ignore,
        (true, true) if state == Negotiation::HaveLocalOffer || making_offer => {
            OfferAction::RollbackAndAnswer
        }
        // A second offer while theirs is applied and unanswered: the newer
        // offer replaces it (applying an offer in have-remote-offer is allowed).
        (true, true) => OfferAction::Answer,
    }
}

/// What to do with an answer that arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerAction {
    /// It answers our outstanding offer: apply it.
    Apply,
    /// No offer of ours is outstanding (it answers one we rolled back, or it is
    /// a duplicate): drop it.
    Drop,
}

/// The rule for an incoming answer.
pub fn on_answer(state: Negotiation) -> AnswerAction {
    if state == Negotiation::HaveLocalOffer {
        AnswerAction::Apply
    } else {
        AnswerAction::Drop
    }
}

/// What to do with a remote ICE candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateAction {
    /// Apply it now.
    Apply,
    /// Keep it until a remote description is set (trickle can outrun the offer
    /// it belongs to when an offer was ignored or is still being applied).
    Hold,
}

/// The rule for an incoming candidate.
pub fn on_candidate(has_remote_description: bool) -> CandidateAction {
    if has_remote_description {
        CandidateAction::Apply
    } else {
        CandidateAction::Hold
    }
}

/// How many candidates are held per peer at most before a remote description;
/// a peer that sends more is misbehaving and the oldest are dropped.
pub const MAX_HELD_CANDIDATES: usize = 64;

/// The ICE connection state, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ice {
    /// Checking, connected or completed.
    Working,
    /// Lost connectivity; it may come back by itself.
    Disconnected,
    /// Gave up.
    Failed,
}

/// Whether to restart ICE now. Only the impolite side restarts, so a pair
/// never restarts twice at once; a disconnection gets `grace` to heal itself
/// first (a brief loss of packets is common, an ICE restart costs a round trip).
pub fn restart_ice(
    polite: bool,
    state: Ice,
    since: std::time::Duration,
    grace: std::time::Duration,
) -> bool {
    if polite {
        return false;
    }
    match state {
        Ice::Working => false,
        Ice::Disconnected => since >= grace,
        Ice::Failed => true,
    }
}

/// The track ids a session description says its side sends: the `msid` of
/// every media section whose direction is `sendrecv` or `sendonly`. A remote
/// track whose id is missing from the other side's latest description has
/// ended: WebRTC signals a removed track only by this (the receiver's track
/// object is not closed by a renegotiation).
pub fn sent_tracks(sdp: &str) -> Vec<String> {
    let mut sent = Vec::new();
    let mut section: Option<(Vec<String>, bool)> = None;
    let finish = |section: Option<(Vec<String>, bool)>, sent: &mut Vec<String>| {
        if let Some((ids, true)) = section {
            sent.extend(ids);
        }
    };
    for line in sdp.lines().map(str::trim) {
        if line.starts_with("m=") {
            finish(section.take(), &mut sent);
            // Without a direction attribute a section is sendrecv (RFC 8866).
            section = Some((Vec::new(), true));
        } else if let Some((ids, sending)) = section.as_mut() {
            if let Some(msid) = line.strip_prefix("a=msid:") {
                if let Some(track) = msid.split_whitespace().nth(1) {
                    ids.push(track.to_owned());
                }
            } else if line == "a=recvonly" || line == "a=inactive" {
                *sending = false;
            }
        }
    }
    finish(section, &mut sent);
    sent
}

/// Whether the engine must join the call again, now that a live connection is
/// online: the seat is held by connection `seated_on` (the number the join's
/// answer came on), and `online` is the connection welcomed last. A newer one
/// means the old connection was lost: the server ended its place in the call
/// with it (others saw the participant leave), so the engine joins again and
/// offers to everyone anew. The same one means nothing was lost, whatever
/// connection events came before — a late "connecting, online" of the
/// connection that seated us must not make us leave a call we are in.
pub fn rejoin(seated_on: u64, online: u64) -> bool {
    online > seated_on
}

/// Tries at joining again before giving up.
pub const REJOIN_ATTEMPTS: u32 = 20;

/// How long to wait before joining again after attempt number `attempt` (from
/// 0) was refused with `code`/`reason`, or `None` to give up: the server may
/// not have ended the old connection's place yet (`ALREADY_IN_CALL`) or did
/// not answer (`UNAVAILABLE`); anything else is final, as is the last attempt.
/// Doubles from 200 ms up to 2 s: about 35 s in all, well past the time a
/// server takes to notice a lost socket. The browser's `rejoinRetry`
/// (`ui/src/call/rules.ts`) waits the same.
pub fn rejoin_retry(
    attempt: u32,
    code: ErrorCode,
    reason: Option<Reason>,
) -> Option<std::time::Duration> {
    if attempt + 1 >= REJOIN_ATTEMPTS {
        return None;
    }
    if reason != Some(Reason::AlreadyInCall) && code != ErrorCode::Unavailable {
        return None;
    }
    let millis = 200u64 << attempt.min(4);
    Some(std::time::Duration::from_millis(millis.min(2_000)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn exactly_one_side_of_a_pair_is_polite() {
        for _ in 0..100 {
            let (a, b) = (UserId::new(), UserId::new());
            assert_ne!(is_polite(a, b), is_polite(b, a), "{a} {b}");
        }
    }

    #[test]
    fn the_joiner_offers_and_those_already_there_wait() {
        assert!(offers_first(true));
        assert!(!offers_first(false));
    }

    #[test]
    fn crossing_offers_resolve_with_one_side_yielding() {
        use Negotiation::*;
        // Both sides have their own offer out when the other's arrives.
        let polite = on_offer(true, false, HaveLocalOffer);
        let impolite = on_offer(false, false, HaveLocalOffer);
        assert_eq!(polite, OfferAction::RollbackAndAnswer);
        assert_eq!(impolite, OfferAction::Ignore);
        // So exactly one offer is answered: the impolite side's. Its answer
        // then finds the impolite side in have-local-offer and applies.
        assert_eq!(on_answer(HaveLocalOffer), AnswerAction::Apply);
        // The polite side's rolled-back offer is never answered; had an answer
        // come anyway (duplicate), it finds it stable and drops it.
        assert_eq!(on_answer(Stable), AnswerAction::Drop);
        // An offer being made (not yet set) counts as a collision too.
        assert_eq!(on_offer(true, true, Stable), OfferAction::RollbackAndAnswer);
        assert_eq!(on_offer(false, true, Stable), OfferAction::Ignore);
    }

    #[test]
    fn offers_without_collision_are_answered_and_closed_drops_everything() {
        use Negotiation::*;
        assert_eq!(on_offer(true, false, Stable), OfferAction::Answer);
        assert_eq!(on_offer(false, false, Stable), OfferAction::Answer);
        assert_eq!(on_offer(true, false, HaveRemoteOffer), OfferAction::Answer);
        assert_eq!(on_offer(false, false, HaveRemoteOffer), OfferAction::Ignore);
        assert_eq!(on_offer(true, false, Closed), OfferAction::Drop);
        assert_eq!(on_offer(false, true, Closed), OfferAction::Drop);
        assert_eq!(on_answer(HaveRemoteOffer), AnswerAction::Drop);
        assert_eq!(on_answer(Closed), AnswerAction::Drop);
    }

    #[test]
    fn candidates_wait_for_a_remote_description() {
        assert_eq!(on_candidate(false), CandidateAction::Hold);
        assert_eq!(on_candidate(true), CandidateAction::Apply);
    }

    #[test]
    fn only_the_impolite_side_restarts_ice_and_only_after_the_grace() {
        let grace = Duration::from_secs(3);
        assert!(restart_ice(false, Ice::Failed, Duration::ZERO, grace));
        assert!(!restart_ice(
            true,
            Ice::Failed,
            Duration::from_secs(60),
            grace
        ));
        assert!(!restart_ice(
            false,
            Ice::Disconnected,
            Duration::from_secs(1),
            grace
        ));
        assert!(restart_ice(false, Ice::Disconnected, grace, grace));
        assert!(!restart_ice(
            false,
            Ice::Working,
            Duration::from_secs(60),
            grace
        ));
    }

    #[test]
    fn sent_tracks_are_the_msids_of_sending_sections() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=msid:kim mic\r\na=sendrecv\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=msid:kim camera\r\na=sendonly\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=msid:kim screen\r\na=recvonly\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:3\r\na=inactive\r\n";
        assert_eq!(sent_tracks(sdp), vec!["mic", "camera"]);
        assert!(sent_tracks("").is_empty());
        assert!(
            sent_tracks("garbage\na=msid:x y").is_empty(),
            "no media section"
        );
    }

    #[test]
    fn a_refused_rejoin_is_retried_doubling_to_two_seconds_then_given_up() {
        let seat_taken = |attempt| {
            rejoin_retry(attempt, ErrorCode::Conflict, Some(Reason::AlreadyInCall))
                .map(|d| d.as_millis() as u64)
        };
        let waits: Vec<u64> = (0..).map_while(seat_taken).collect();
        assert_eq!(&waits[..6], &[200, 400, 800, 1_600, 2_000, 2_000]);
        assert_eq!(
            waits.len() as u32,
            REJOIN_ATTEMPTS - 1,
            "no wait after the last"
        );
        let total: u64 = waits.iter().sum();
        assert!(
            (30_000..40_000).contains(&total),
            "about 35 s in all: {total}"
        );
        assert_eq!(seat_taken(u32::MAX - 1), None);
        assert_eq!(
            rejoin_retry(0, ErrorCode::Unavailable, None),
            Some(std::time::Duration::from_millis(200)),
            "the server did not answer: try again"
        );
        for (code, reason) in [
            (ErrorCode::Forbidden, None),
            (ErrorCode::Conflict, Some(Reason::CallFull)),
            (ErrorCode::NotFound, None),
        ] {
            assert_eq!(
                rejoin_retry(0, code, reason),
                None,
                "{code:?} {reason:?} is final"
            );
        }
    }

    #[test]
    fn rejoin_only_when_a_newer_connection_than_the_seats_is_online() {
        assert!(rejoin(1, 2), "the seat's connection was lost");
        assert!(rejoin(3, 5), "lost more than once meanwhile");
        assert!(
            !rejoin(2, 2),
            "the seat's own connection: its late events change nothing"
        );
        assert!(!rejoin(2, 1), "an older connection's news");
    }
}
