//! What the benchmark's comparison binaries share: a migration list of any length, for
//! measuring what each migration costs beyond its own SQL.

pub mod trivial;
