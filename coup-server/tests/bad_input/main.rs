//! "No input ever produces a 500 or a panic."
//!
//! Every operation of the OpenAPI document the server serves (so every route it
//! registers: registering is documenting) gets a corpus of bad requests: missing,
//! forged and malformed credentials; malformed, mistyped, over-long and
//! unknown-field bodies; ids that are not UUIDs, or UUIDs that name nothing; query
//! strings with bad values; broken multipart uploads. Every answer must be a 4xx
//! whose body is `{"error":{"code","message"}}` with an upper-case code that
//! matches the status, and the seeded data must be exactly the same afterwards.
//!
//! A second test checks the body limits (413), unknown routes (404) and wrong methods
//! (405); a third sends odd but well-formed values (extreme dates, boundary lengths)
//! that may be accepted, and checks that nothing then fails to read back.
//!
//! - `world`: the seeded data, the ids templates name, the snapshot.
//! - `routes`: the operations under test, read from the document.
//! - `cases`, `inputs`: one bad request and its judgement; the bad inputs.
//! - `every_route`, `limits`, `odd_values`: the three tests.

#[path = "../common/mod.rs"]
mod common;

mod cases;
mod every_route;
mod inputs;
mod limits;
mod odd_values;
mod routes;
mod world;
