//! The live layer's rules, transport-free: the versioned frame protocol and the
//! routing of domain events to frames ([`protocol`]), presence with multi-device
//! counting ([`presence`]), typing indicators with throttle and expiry ([`typing`]),
//! call rooms with relay checks ([`calls`]), what nodes tell each other when
//! several serve one platform ([`cluster`]), and [`live`], which combines them
//! into one node's live state whose every input returns the effects to carry
//! out. The server's gateway only moves frames and executes those effects.

pub mod calls;
pub mod cluster;
pub mod live;
pub mod presence;
pub mod protocol;
pub mod typing;
