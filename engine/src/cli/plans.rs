//! `migrate plan create | list | show | run | rollback`: plans are files (see
//! [`crate::authoring::plans`]); running and rolling them back goes through the engine's `up` and `down`
//! with a selection, under the lock, as one batch, checked against the dependency graph.

use serde::Serialize;
use std::io::IsTerminal;
use std::path::Path;
use tracing::info;

use super::args::{Change, PlanCommand};
use super::exit::CommandError;
use super::picker::{self, Choice};
use super::{Ctx, output};
use crate::authoring::plans::{Plan, PlanError, PlanStore, PlannedMigration};
use crate::authoring::selection::{self, Selection};
use crate::error::EngineError;
use crate::exec::RunOptions;
use crate::exec::report::{Progress, StatusReport, is_in_effect};
use crate::plan::{DownTarget, State, UpTarget};

/// One migration of a plan, with where it stands.
#[derive(Debug, Clone, Serialize)]
pub(super) struct PlanLine {
    /// Its position in the code's list; `None` when the code no longer has it.
    pub number: Option<usize>,
    /// Fourteen-digit version.
    pub version: String,
    /// Snake-case name.
    pub name: String,
    /// The release that shipped it.
    pub release: Option<String>,
    /// Its state; `None` when neither the code nor the ledger has it.
    pub state: Option<State>,
}

/// A plan with where its migrations stand: what `plan list` and `plan show` print.
#[derive(Debug, Clone, Serialize)]
pub(super) struct PlanView {
    /// The plan's name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// Whether its migrations are applied.
    pub state: Progress,
    /// Its migrations, in order.
    pub migrations: Vec<PlanLine>,
}

fn view(plan: &Plan, status: &StatusReport) -> PlanView {
    let migrations: Vec<PlanLine> = plan
        .migrations
        .iter()
        .map(|m| {
            let line = status.migrations.iter().find(|s| s.version == m.version);
            PlanLine {
                number: line.and_then(|l| l.number),
                version: m.version.clone(),
                name: m.name.clone(),
                release: line.and_then(|l| l.release.clone()),
                state: line.map(|l| l.state),
            }
        })
        .collect();
    let applied = migrations
        .iter()
        .filter(|m| m.state.is_some_and(is_in_effect))
        .count();
    PlanView {
        name: plan.name.clone(),
        description: plan.description.clone(),
        created_at: plan.created_at.to_string(),
        created_by: plan.created_by.clone(),
        state: Progress::of(applied, migrations.len()).unwrap_or(Progress::Applied),
        migrations,
    }
}

/// What `plan run NAME` applies from the plans in `dir`, and its options: `options` with the
/// plan's name.
///
/// # Errors
/// The plan cannot be read, or names a migration the code does not have.
pub(super) fn run_target(
    project: &crate::model::project::LoadedProject,
    dir: &Path,
    name: &str,
    options: RunOptions,
) -> Result<(UpTarget, RunOptions), CommandError> {
    let plan = PlanStore::new(dir.to_path_buf()).load(name)?;
    for m in &plan.migrations {
        if project.set.get(&m.version).is_none() {
            return Err(PlanError::UnknownMigration {
                plan: name.to_owned(),
                migration: format!("{}_{}", m.version, m.name),
            }
            .into());
        }
    }
    let target = UpTarget {
        only: Some(plan.versions()),
        ..UpTarget::default()
    };
    Ok((
        target,
        RunOptions {
            plan: Some(name.to_owned()),
            ..options
        },
    ))
}

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

impl Ctx<'_> {
    fn plan_options(&self, plan: &str, change: &Change) -> RunOptions {
        RunOptions {
            plan: Some(plan.to_owned()),
            ..self.options(change)
        }
    }

    pub(super) async fn plan(
        &self,
        command: PlanCommand,
        store: &PlanStore,
    ) -> Result<(), CommandError> {
        let format = self.cli.global.format;
        match command {
            PlanCommand::Create {
                name,
                select,
                description,
            } => self.create_plan(store, &name, select, description).await?,
            PlanCommand::List => {
                let status = self.engine.status().await?;
                let views: Vec<PlanView> = store.list()?.iter().map(|p| view(p, &status)).collect();
                output::plans(format, store.dir(), &views);
            }
            PlanCommand::Show { name } => {
                let plan = store.load(&name)?;
                output::plan(format, &view(&plan, &self.engine.status().await?));
            }
            PlanCommand::Run {
                name,
                dry_run,
                change,
            } => {
                let (target, options) =
                    run_target(self.project, store.dir(), &name, self.options(&change))?;
                if dry_run {
                    output::script(format, &self.engine.dry_run_up(&target, &options).await?);
                } else {
                    output::run(format, &self.ops("plan run")?.up(&target, &options).await?);
                }
            }
            PlanCommand::Rollback {
                name,
                dry_run,
                change,
            } => {
                let plan = store.load(&name)?;
                let target = DownTarget::Only(plan.versions());
                let options = self.plan_options(&name, &change);
                if dry_run {
                    output::script(format, &self.engine.dry_run_down(&target, &options).await?);
                } else {
                    let report = self.ops("plan rollback")?.down(&target, &options).await?;
                    output::run(format, &report);
                }
            }
        }
        Ok(())
    }

    async fn create_plan(
        &self,
        store: &PlanStore,
        name: &str,
        select: Option<String>,
        description: Option<String>,
    ) -> Result<(), CommandError> {
        let path = store.path(name)?;
        if path.exists() {
            return Err(PlanError::Exists {
                name: name.to_owned(),
                path: path.display().to_string(),
            }
            .into());
        }
        let status = self.engine.status().await?;
        let choices: Vec<Choice> = status
            .migrations
            .iter()
            .filter_map(|m| {
                Some(Choice {
                    number: m.number?,
                    version: m.version.clone(),
                    name: m.name.clone(),
                    release: m.release.clone(),
                    state: m.state,
                })
            })
            .collect();
        let picked = match select {
            Some(text) => match selection::parse(&text, choices.len())? {
                Selection::Cancelled => None,
                Selection::Picked(picked) => Some((picked, description.unwrap_or_default())),
            },
            None if interactive() => picker::pick(&choices, name, description)?,
            None => return Err(PlanError::NeedsSelection.into()),
        };
        let Some((picked, description)) = picked.filter(|(p, _)| !p.is_empty()) else {
            return Err(EngineError::Cancelled.into());
        };
        let migrations: Vec<PlannedMigration> = picked
            .iter()
            .filter_map(|n| choices.get(n - 1))
            .map(|c| PlannedMigration {
                version: c.version.clone(),
                name: c.name.clone(),
            })
            .collect();
        let plan = Plan::new(
            name,
            &description,
            &crate::exec::who(),
            chrono::Utc::now(),
            migrations,
        )?;
        self.note_outside_needs(&plan, &status);
        let file = store.save(&plan)?;
        output::plan_created(self.cli.global.format, &file, &view(&plan, &status));
        Ok(())
    }

    /// Says which needs of the plan's migrations are neither in it nor applied here: `plan run`
    /// will refuse unless they are applied by then.
    fn note_outside_needs(&self, plan: &Plan, status: &StatusReport) {
        let set = &self.project.set;
        let all: Vec<String> = set.iter().map(|m| m.id.version.clone()).collect();
        let applied = status
            .migrations
            .iter()
            .filter(|m| m.state != State::Pending)
            .map(|m| m.version.clone())
            .collect();
        let label = |v: &str| {
            set.get(v)
                .map_or_else(|| v.to_owned(), |m| m.id.to_string())
        };
        let outside = self
            .project
            .graph
            .unmet(&plan.versions(), &applied, &all, label);
        for culprit in outside {
            info!(
                "{culprit}, which is neither in the plan nor applied here: it must be applied before `plan run {}`",
                plan.name
            );
        }
    }
}

/// Where a plan was written, relative to the working directory when it is below it.
pub(super) fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}
