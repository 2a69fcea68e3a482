//! Lets a receiver's keyframe requests reach the engine's encoders.
//!
//! webrtc 0.21's interceptor chain ends inbound RTCP before the application:
//! a sent track's `poll` only sees the packets an interceptor marked
//! `DeliverToApplication`, and the default chain marks none. Without
//! [`KeyframeRequestsToApp`] a PLI or FIR from a receiver (a peer that joined
//! mid-stream, lost packets, or whose sink lost the picture) would stop in the
//! chain, and the receiver would wait for the encoder's periodic keyframe.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

/// Where it sits in the chain: past every built-in interceptor (it only
/// marks inbound packets, so nothing needs to come after it).
pub(crate) const SLOT: usize = 20_000;

/// Whether an RTCP packet asks for a keyframe (PLI or FIR).
pub(crate) fn asks_for_keyframe(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.downcast_ref::<PictureLossIndication>().is_some()
        || any.downcast_ref::<FullIntraRequest>().is_some()
}

/// The interceptor: inbound RTCP that holds a keyframe request is delivered
/// to the application; everything else passes as it came.
#[derive(Default)]
pub(crate) struct KeyframeRequestsToApp {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequestsToApp {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet
            && packets.iter().any(|p| asks_for_keyframe(p.as_ref()))
        {
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write.pop_front()
    }
}

impl Interceptor for KeyframeRequestsToApp {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::AttributedPacket;
    use rtc::rtcp::receiver_report::ReceiverReport;
    use rtc::shared::TransportContext;

    fn inbound(packets: Vec<Box<dyn rtc::rtcp::Packet>>) -> TaggedPacket {
        TaggedPacket {
            now: Instant::now(),
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtcp(packets)),
        }
    }

    fn delivered(packets: Vec<Box<dyn rtc::rtcp::Packet>>) -> bool {
        let mut interceptor = KeyframeRequestsToApp::default();
        interceptor.handle_read(inbound(packets)).expect("read");
        let out = interceptor.poll_read().expect("passed on");
        out.message.has(&Attribute::DeliverToApplication)
    }

    #[test]
    fn keyframe_requests_are_delivered_and_reports_are_not() {
        let pli = PictureLossIndication {
            sender_ssrc: 1,
            media_ssrc: 2,
        };
        let report = ReceiverReport::default();
        assert!(delivered(vec![Box::new(pli.clone())]));
        assert!(delivered(vec![Box::new(report.clone()), Box::new(pli)]));
        assert!(delivered(vec![Box::new(FullIntraRequest::default())]));
        assert!(!delivered(vec![Box::new(report)]));
    }
}
