//! Dry runs: the second interpreter of the step protocol. A dry run plans exactly as the run
//! does ([`super::executor`] prepares both), then prints each step's recipe part by part, in the
//! order the executor runs the parts, with the statements the step's body renders without a
//! database and its ledger writes as the run would send them. It takes no lock and changes
//! nothing.

use super::engine::{Engine, RunOptions};
use super::protocol::{Body, Facts, Part, Protocol, Recipe};
use super::report::{Script, Section};
use crate::error::Result;
use crate::plan::{DownTarget, UpTarget};
use crate::store::render::{self, Rendering};

impl<'a> Engine<'a> {
    /// The SQL `up` would run, with transaction boundaries and ledger writes; changes nothing.
    ///
    /// # Errors
    /// The same validation refusals as [`Operations::up`](super::operations::Operations::up).
    pub async fn dry_run_up(&self, target: &UpTarget, options: &RunOptions) -> Result<Script> {
        let snap = self.snapshot().await?;
        self.refuse_unledgered(&snap).await?;
        let run = self.prepare_up(&snap, target, options).await?;
        let mut script = Script::default();
        if run.recipes.is_empty() {
            return Ok(script);
        }
        if snap.rows.is_none() {
            script.sections.push(Section {
                title: format!(
                    "create the ledger `{}` and its history",
                    self.ledger.table_name()
                ),
                statements: self.ledger_ddl(),
                partly_rendered: None,
            });
        }
        self.print(
            &mut script,
            &run.recipes,
            options.single_transaction,
            options,
        )
        .await;
        script.notes = run.notes;
        Ok(script)
    }

    /// The SQL `down` would run, with transaction boundaries and ledger writes; changes nothing.
    ///
    /// # Errors
    /// The same validation refusals as [`Operations::down`](super::operations::Operations::down), except that migrations missing from the
    /// code are shown rather than refused.
    pub async fn dry_run_down(&self, target: &DownTarget, options: &RunOptions) -> Result<Script> {
        let snap = self.snapshot().await?;
        self.refuse_unledgered(&snap).await?;
        let recipes = self.prepare_down(&snap, target, options, true).await?;
        let mut script = Script::default();
        self.print(&mut script, &recipes, false, options).await;
        Ok(script)
    }

    /// Adds a section to `script` for each of `recipes`, as the executor runs them; `together`
    /// puts them all in the run's one transaction.
    async fn print(
        &self,
        script: &mut Script,
        recipes: &[Recipe<'a>],
        together: bool,
        options: &RunOptions,
    ) {
        let last = recipes.len().saturating_sub(1);
        for (n, recipe) in recipes.iter().enumerate() {
            let rendering = self.preview(&recipe.body).await;
            let partly_rendered = rendering.partial();
            let mut statements = self.script(recipe, rendering.statements, together, options);
            if together && n == 0 {
                statements.insert(0, "BEGIN".to_owned());
            }
            if together && n == last {
                statements.push("COMMIT".to_owned());
            }
            script.sections.push(Section {
                title: recipe.title.clone(),
                statements,
                partly_rendered,
            });
        }
    }

    /// What the step's body would send, rendered without a database; a stored `down` is what
    /// it is.
    pub(super) async fn preview(&self, body: &Body<'_>) -> Rendering {
        match body {
            Body::Code(code, direction, _) => {
                render::render_code(*code, self.backend(), *direction).await
            }
            Body::Stored(statements) => Rendering {
                statements: statements.clone(),
                stop: None,
            },
        }
    }

    /// The statements a dry run shows for `recipe`: its parts in the order the executor runs
    /// them, with `body` rendered. In the run's one transaction (`shared`) an atomic step has no
    /// `BEGIN` and `COMMIT` of its own.
    pub(super) fn script(
        &self,
        recipe: &Recipe<'_>,
        body: Vec<String>,
        shared: bool,
        options: &RunOptions,
    ) -> Vec<String> {
        let mut body = Some(body);
        let own = !(shared && recipe.protocol == Protocol::Atomic);
        let mut out = Vec::new();
        for &part in recipe.parts() {
            match part {
                Part::Begin if own => out.push("BEGIN".to_owned()),
                Part::Commit if own => out.push("COMMIT".to_owned()),
                Part::Begin | Part::Commit => {}
                Part::Body => out.extend(body.take().unwrap_or_default()),
                Part::MarkRunning | Part::Record => {
                    let together = part == Part::Record && recipe.records_together();
                    if together {
                        out.push("BEGIN".to_owned());
                    }
                    out.extend(
                        recipe
                            .writes(part)
                            .iter()
                            .map(|w| self.statement(w, recipe, &Facts::default(), options))
                            .map(|s| s.to_string()),
                    );
                    if together {
                        out.push("COMMIT".to_owned());
                    }
                }
            }
        }
        out
    }
}
