//! `fresh --seed PROFILE`: the project's seeder ([`crate::exec::operations::AfterFresh`], which
//! the project registers with [`super::run_with`]) runs in this process after `fresh`, in the
//! session `fresh` ran in, so no other runner gets in between the rebuild and the data.
//!
//! On text, the rebuild's summary is printed before the seeding starts, so a terminal shows each
//! phase as it ends; on JSON, one document holds both (see [`super::output::fresh_seeded`]).

use std::sync::Arc;

use super::args::Format;
use super::output;
use crate::error::Result;
use crate::exec::operations::{AfterFresh, AfterFreshOutput, FreshReport, SeedRequest};
use crate::exec::session::Session;
use crate::model::set::MigrationSet;

/// The project's step after `fresh`, with the rebuild's summary printed before it on text.
pub(crate) struct SummaryFirst {
    step: Arc<dyn AfterFresh>,
    format: Format,
}

impl SummaryFirst {
    /// `step`, printing the rebuild's summary in `format` first.
    pub(crate) fn new(step: Arc<dyn AfterFresh>, format: Format) -> Self {
        Self { step, format }
    }
}

#[async_trait::async_trait]
impl AfterFresh for SummaryFirst {
    fn check(&self, request: &SeedRequest) -> Result<()> {
        self.step.check(request)
    }

    fn effect(&self, request: &SeedRequest) -> String {
        self.step.effect(request)
    }

    fn done(&self, request: &SeedRequest) -> String {
        self.step.done(request)
    }

    fn content(&self, request: &SeedRequest) -> Option<Vec<(String, String)>> {
        self.step.content(request)
    }

    async fn run(
        &self,
        session: &Session,
        set: &MigrationSet,
        request: &SeedRequest,
        fresh: &FreshReport,
    ) -> Result<AfterFreshOutput> {
        if self.format != Format::Json {
            output::fresh(self.format, &fresh.dropped, &fresh.applied);
        }
        self.step.run(session, set, request, fresh).await
    }
}
