//! What a database's schema is and whether migrations keep it honest: snapshots that compare
//! with `==` and differ in worded changes, and `verify`, which checks every `down` against its
//! `up` on a scratch database.

pub mod snapshot;
pub mod verify;
