//! The live layer's rules, transport-free: the versioned frame protocol and the
//! routing of domain events to frames ([`protocol`]), presence with multi-device
//! counting ([`presence`]), typing indicators with throttle and expiry ([`typing`]),
//! call rooms with relay checks ([`calls`]), and what nodes tell each other when
//! several serve one platform ([`cluster`]). The server's gateway only moves
//! frames and holds these state machines.

pub mod calls;
pub mod cluster;
pub mod presence;
pub mod protocol;
pub mod typing;
