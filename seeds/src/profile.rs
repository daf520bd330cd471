//! What to seed: a profile, and the parameters that make its rows reproducible.

use chrono::NaiveDate;
use serde::Serialize;

/// The generator's seed when `--seed` is not given.
pub const DEFAULT_SEED: u64 = 42;

/// A named shape of test data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// One tenant, user, service, resource and customer, and a week of timeslots: enough to
    /// book, and fast enough for every test.
    Minimal,
    /// Four businesses of different kinds with a month of timeslots, bookings, payments and
    /// the QA scenarios documented in the README.
    Demo,
    /// The demo shape repeated `--scale` times, for volume; block one is the demo itself.
    Load,
}

impl Profile {
    /// The name used on the command line and in the tracking table.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Minimal => "minimal",
            Profile::Demo => "demo",
            Profile::Load => "load",
        }
    }

    /// The profile recorded under `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Profile::Minimal, Profile::Demo, Profile::Load]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything the rows depend on: the same parameters give the same rows, on every run and
/// every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Params {
    /// The shape.
    pub profile: Profile,
    /// Fixes the random generator.
    pub seed: u64,
    /// How many times the demo shape is repeated; 1 for every profile but `load`.
    pub scale: u32,
    /// The day the data is generated around: timeslots, bookings and expiries are relative to
    /// midnight UTC at its start.
    pub today: NaiveDate,
}

impl Params {
    /// Parameters for `profile` with the default seed and scale 1.
    pub fn new(profile: Profile, today: NaiveDate) -> Self {
        Self {
            profile,
            seed: DEFAULT_SEED,
            scale: 1,
            today,
        }
    }
}
