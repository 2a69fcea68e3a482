//! The REST API's wire types beyond [`crate::model`]: one module per area, as in
//! `crate::service` and the server's `routes`. They compile in every feature
//! combination, so a client-only build (`default-features = false, features =
//! ["client"]`) sends exactly what the server reads.

pub mod accounts;
pub mod admin;
pub mod calendar;
pub mod chat;
pub mod membership;
pub mod notices;
pub mod notifications;
pub mod paths;
pub mod reports;
pub mod studies;
pub mod tasks;
