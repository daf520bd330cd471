//! The benchmark suites, one module each.

pub(crate) mod seeds;
