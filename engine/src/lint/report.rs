//! What `migrate lint` found, and its renderings: text grouped by migration, JSON (the serde
//! shape), GitHub workflow annotations and a SARIF 2.1.0 log for code scanning.

use serde::Serialize;
use std::fmt;

use super::Level;
use super::rules;

/// One finding: a rule that flagged a statement of a migration on a backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's id.
    pub rule: &'static str,
    /// The rule's level.
    pub level: Level,
    /// The backend whose rendering was linted (`postgres`, `mysql`, `sqlite`).
    pub backend: &'static str,
    /// What is wrong with this statement.
    pub message: String,
    /// The offending statement, when the finding is about one.
    pub statement: Option<String>,
    /// The reason the migration gives in `LINT_ALLOW`, when it allows the rule: the finding
    /// is then reported and does not count.
    pub allowed: Option<String>,
}

impl Finding {
    /// Whether the finding counts as an error: error level and not allowed.
    pub fn is_error(&self) -> bool {
        self.level == Level::Error && self.allowed.is_none()
    }

    /// Whether the finding counts as a warning: warning level and not allowed.
    pub fn is_warning(&self) -> bool {
        self.level == Level::Warning && self.allowed.is_none()
    }
}

/// The findings of one migration, on every backend linted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationLint {
    /// Its module name.
    pub migration: String,
    /// Its version.
    pub version: String,
    /// What the rules found, by backend, in statement order.
    pub findings: Vec<Finding>,
    /// Per backend where rendering stopped early, why: the statements after it were not linted.
    pub partial: Vec<Partial>,
}

/// A backend on which a migration's rendering stopped early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partial {
    /// The backend.
    pub backend: &'static str,
    /// Where rendering stopped and why.
    pub reason: String,
}

/// What `migrate lint` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintReport {
    /// The backends linted.
    pub backends: Vec<&'static str>,
    /// Each migration linted, in order, with its findings (possibly none).
    pub migrations: Vec<MigrationLint>,
}

impl LintReport {
    fn findings(&self) -> impl Iterator<Item = (&MigrationLint, &Finding)> {
        self.migrations
            .iter()
            .flat_map(|m| m.findings.iter().map(move |f| (m, f)))
    }

    /// Findings at error level that no `LINT_ALLOW` allows.
    pub fn errors(&self) -> usize {
        self.findings().filter(|(_, f)| f.is_error()).count()
    }

    /// Findings at warning level that no `LINT_ALLOW` allows.
    pub fn warnings(&self) -> usize {
        self.findings().filter(|(_, f)| f.is_warning()).count()
    }

    /// Findings a migration allows.
    pub fn allowed(&self) -> usize {
        self.findings().filter(|(_, f)| f.allowed.is_some()).count()
    }

    /// Whether an error-level finding remains (`migrate lint` exits 4).
    pub fn has_errors(&self) -> bool {
        self.errors() > 0
    }

    /// The rule ids found in migration `migration` (module name or version) that count.
    pub fn rules_of(&self, migration: &str) -> Vec<&'static str> {
        self.migrations
            .iter()
            .filter(|m| m.migration == migration || m.version == migration)
            .flat_map(|m| m.findings.iter())
            .filter(|f| f.allowed.is_none())
            .map(|f| f.rule)
            .collect()
    }

    /// The findings as GitHub workflow commands (`::error title=…::message`), one a line, each
    /// naming the migration's source file when `file_of` knows it.
    pub fn github(&self, file_of: &dyn Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        for (m, f) in self.findings() {
            let command = match (f.allowed.is_some(), f.level) {
                (true, _) => "notice",
                (false, Level::Error) => "error",
                (false, Level::Warning) => "warning",
            };
            let file = file_of(&m.migration)
                .map(|p| format!("file={},", escape_property(&p)))
                .unwrap_or_default();
            let mut message = format!("{} ({}): {}", m.migration, f.backend, f.message);
            if let Some(reason) = &f.allowed {
                message.push_str(&format!(" [allowed: {reason}]"));
            }
            out.push_str(&format!(
                "::{command} {file}title={}::{}\n",
                escape_property(f.rule),
                escape_data(&message)
            ));
        }
        out
    }

    /// The findings as a SARIF 2.1.0 log, with every rule's documentation; `file_of` gives a
    /// migration's source file, relative to the repository, when it is known.
    pub fn sarif(&self, file_of: &dyn Fn(&str) -> Option<String>) -> serde_json::Value {
        let all = rules::all();
        let rules_json: Vec<serde_json::Value> = all
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "shortDescription": { "text": r.summary },
                    "fullDescription": { "text": r.doc },
                    "defaultConfiguration": { "level": sarif_level(r.level) },
                })
            })
            .collect();
        let results: Vec<serde_json::Value> = self
            .findings()
            .map(|(m, f)| {
                let uri = file_of(&m.migration).unwrap_or_else(|| format!("{}.rs", m.migration));
                let mut result = serde_json::json!({
                    "ruleId": f.rule,
                    "ruleIndex": all.iter().position(|r| r.id == f.rule),
                    "level": sarif_level(f.level),
                    "message": { "text": format!("{} ({}): {}", m.migration, f.backend, f.message) },
                    "locations": [{
                        "physicalLocation": { "artifactLocation": { "uri": uri } },
                        "logicalLocations": [{ "name": m.migration, "kind": "module" }],
                    }],
                    "properties": { "backend": f.backend, "statement": f.statement },
                });
                if let Some(reason) = &f.allowed {
                    result["suppressions"] =
                        serde_json::json!([{ "kind": "inSource", "justification": reason }]);
                }
                result
            })
            .collect();
        serde_json::json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "migrate lint",
                    "informationUri": "https://github.com/SeaQL/sea-orm",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules_json,
                }},
                "results": results,
            }],
        })
    }
}

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
    }
}

/// GitHub's escaping of a workflow command's message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping of a workflow command's property.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A statement shown on one line, cut at 200 characters.
fn shown(sql: &str) -> String {
    let line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

impl fmt::Display for LintReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.migrations {
            if m.findings.is_empty() && m.partial.is_empty() {
                continue;
            }
            writeln!(f, "{}", m.migration)?;
            for p in &m.partial {
                writeln!(
                    f,
                    "  note ({}): rendering {}; later statements were not linted",
                    p.backend, p.reason
                )?;
            }
            let mut last_statement: Option<(&str, &str)> = None;
            for finding in &m.findings {
                let label = match (&finding.allowed, finding.level) {
                    (Some(_), _) => "allowed",
                    (None, Level::Error) => "error",
                    (None, Level::Warning) => "warning",
                };
                if let Some(sql) = &finding.statement
                    && last_statement != Some((finding.backend, sql.as_str()))
                {
                    writeln!(f, "  {}> {}", finding.backend, shown(sql))?;
                    last_statement = Some((finding.backend, sql.as_str()));
                }
                writeln!(
                    f,
                    "    {label}[{}] ({}): {}",
                    finding.rule, finding.backend, finding.message
                )?;
                if let Some(reason) = &finding.allowed {
                    writeln!(f, "      allowed by LINT_ALLOW: {reason}")?;
                }
            }
        }
        let clean = self
            .migrations
            .iter()
            .filter(|m| m.findings.iter().all(|f| f.allowed.is_some()))
            .count();
        writeln!(
            f,
            "Linted {} migration(s) on {}: {} error(s), {} warning(s), {} allowed; {} clean.",
            self.migrations.len(),
            self.backends.join(", "),
            self.errors(),
            self.warnings(),
            self.allowed(),
            clean
        )
    }
}
