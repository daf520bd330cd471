//! A fleet: the targets one command runs on, when it runs on many.
//!
//! Targets come from a list (`URL` or `URL SCHEMA` per line, as `--targets FILE` reads it), from
//! the schemas of one database whose names match a pattern (`--schemas 'tenant_*'`; on
//! MySQL/MariaDB a schema is a database of the same server), or from the rows a control
//! database's query returns (`--targets-query`). Each target keeps its ledger in its own schema
//! (or database, or file), so its lock key is its own and targets never wait for each other.
//!
//! A list is checked whole before anything runs: an empty list, or one naming a target twice,
//! is refused. [`Shard`] splits a list into disjoint parts that together hold every target, by a
//! digest of each target's identity, so machines that read the same fleet in any order, or one
//! that grew by a few targets, agree on who takes which without talking to each other.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sha2::{Digest, Sha256};

use super::target::Target;
use crate::error::{EngineError, Result};

fn config_error(message: impl Into<String>) -> EngineError {
    EngineError::Config {
        message: message.into(),
    }
}

/// Where a target came from, for the message that refuses it: `targets.txt:12`, `--schemas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(pub String);

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One target of a fleet and where it came from.
#[derive(Debug, Clone)]
pub struct FleetTarget {
    /// The database (and schema) to run on.
    pub target: Target,
    /// The line or source that named it.
    pub origin: Origin,
}

impl FleetTarget {
    /// How the target is shown: its URL without password, and the schema when one is set.
    pub fn label(&self) -> String {
        label(&self.target)
    }
}

/// How `target` is shown in a fleet's lines: the redacted URL, then ` schema NAME` on
/// PostgreSQL when a schema is set.
pub fn label(target: &Target) -> String {
    match &target.database_schema {
        Some(schema) => format!("{} schema {schema}", target.redacted()),
        None => target.redacted(),
    }
}

/// What makes two targets the same: backend, server, database and schema, without the
/// credentials or the connection's settings, so that two lines reaching one schema as two users
/// are still one target.
pub fn identity(target: &Target) -> String {
    let schema = target.database_schema.as_deref().unwrap_or("");
    match target.server_parts() {
        Ok(parts) if target.backend() != DbBackend::Sqlite => format!(
            "{}://{}:{}/{}#{schema}",
            super::name(target.backend()),
            parts.host.unwrap_or_default().to_ascii_lowercase(),
            parts.port.map(|p| p.to_string()).unwrap_or_default(),
            parts.database
        ),
        _ => {
            format!(
                "sqlite://{}#{schema}",
                file_identity(&target.database_name())
            )
        }
    }
}

/// A SQLite file's path as one spelling: resolved when it exists, otherwise made absolute and
/// rid of `.` and `..` by hand, so `a.db` and `./a.db` are one file before either is created.
fn file_identity(file: &str) -> String {
    use std::path::{Component, Path, PathBuf};
    let path = Path::new(file);
    if let Ok(resolved) = std::fs::canonicalize(path) {
        return resolved.display().to_string();
    }
    let absolute = std::env::current_dir()
        .map(|dir| dir.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let mut clean = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean.display().to_string()
}

/// The target `base` names, moved to `schema`: on PostgreSQL the search path and the ledger's
/// schema, on MySQL/MariaDB the database of that name on the same server.
///
/// # Errors
/// [`EngineError::Config`] for an invalid name, for SQLite (a file has no schemas), and for a
/// base that fixes the ledger's schema, which would put every target's ledger in one place.
pub fn in_schema(base: &Target, schema: &str) -> Result<Target> {
    super::target::validate_identifier("schema", schema)?;
    match base.backend() {
        DbBackend::Postgres => {
            if base.migration_schema.is_some() {
                return Err(config_error(
                    "--migration-schema puts every target's ledger in one schema: drop it (MIGRATION_SCHEMA too) when a fleet names schemas, each keeps its ledger in its own",
                ));
            }
            Target::new(
                base.url(),
                Some(schema.to_owned()),
                None,
                Some(base.migration_table.clone()),
            )
        }
        DbBackend::MySql => base.on_database(schema),
        _ => Err(config_error(format!(
            "SQLite has no schemas, so `{schema}` names nothing in {}: list one sqlite:// URL per file in --targets",
            base.redacted()
        ))),
    }
}

/// Reads a target list: one target a line, `URL` or `URL SCHEMA`, blank lines and lines
/// starting with `#` skipped. `source` names the list in messages (a file name, `stdin`);
/// `base` gives the ledger table every target uses.
///
/// # Errors
/// [`EngineError::Config`] naming the line, for a malformed URL, a line of more than two words,
/// or a schema where there can be none.
pub fn parse_list(text: &str, source: &str, base: &Target) -> Result<Vec<FleetTarget>> {
    let mut targets = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = Origin(format!("{source}:{}", number + 1));
        let in_line = |e: EngineError| match e {
            EngineError::Config { message } => config_error(format!("{origin}: {message}")),
            other => other,
        };
        let mut words = line.split_whitespace();
        let url = words.next().unwrap_or_default();
        let schema = words.next();
        if words.next().is_some() {
            return Err(config_error(format!(
                "{origin}: a line holds a URL and at most a schema, separated by a space: percent-encode spaces in the URL"
            )));
        }
        let plain = Target::new(
            url,
            None,
            base.migration_schema.clone(),
            Some(base.migration_table.clone()),
        )
        .map_err(in_line)?;
        let target = match schema {
            Some(schema) => in_schema(&plain, schema).map_err(in_line)?,
            None if plain.backend() == DbBackend::Postgres => Target::new(
                url,
                base.database_schema.clone(),
                base.migration_schema.clone(),
                Some(base.migration_table.clone()),
            )
            .map_err(in_line)?,
            None => plain,
        };
        targets.push(FleetTarget { target, origin });
    }
    Ok(targets)
}

/// Whether `name` matches the shell-style `pattern`: `*` any run of characters, `?` any one,
/// everything else itself.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // The classic two-pointer match, backtracking to the last `*` only.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The schemas of `base`'s database (on MySQL/MariaDB, the databases of its server) whose names
/// match `pattern`, in name order, as targets. The system's own schemas are never listed.
///
/// # Errors
/// [`EngineError::Config`] on SQLite; the connection's and the query's errors.
pub async fn schemas_matching(
    base: &Target,
    pattern: &str,
    connect_timeout: Duration,
) -> Result<Vec<FleetTarget>> {
    let Some(query) = super::capabilities(base.backend()).tenant_schemas_query else {
        return Err(config_error(format!(
            "SQLite has no schemas for --schemas `{pattern}` to match: list one sqlite:// URL per file in --targets"
        )));
    };
    let conn = base.connect(connect_timeout).await?;
    let rows = conn
        .query_all_raw(Statement::from_string(base.backend(), query))
        .await;
    let _ = conn.close().await;
    let mut targets = Vec::new();
    for row in rows.map_err(EngineError::db("listing the schemas for --schemas"))? {
        let name: String = row
            .try_get_by_index(0)
            .map_err(EngineError::db("reading a schema name"))?;
        if glob_matches(pattern, &name) {
            targets.push(FleetTarget {
                target: in_schema(base, &name)?,
                origin: Origin(format!("--schemas `{pattern}`")),
            });
        }
    }
    Ok(targets)
}

/// The targets the rows of `sql` name, run on the control database `base`: each row's first
/// column is a URL (anything with `://`) or a schema of `base`'s database, and a second column,
/// when there is one and it is not null, a schema of that URL.
///
/// # Errors
/// The connection's and the query's errors; [`EngineError::Config`] for a row that names no
/// target, naming the row.
pub async fn from_query(
    base: &Target,
    sql: &str,
    connect_timeout: Duration,
) -> Result<Vec<FleetTarget>> {
    let conn = base.connect(connect_timeout).await?;
    let rows = conn
        .query_all_raw(Statement::from_string(base.backend(), sql.to_owned()))
        .await;
    let _ = conn.close().await;
    let rows = rows.map_err(EngineError::db(
        "running --targets-query on the control database",
    ))?;
    let mut lines = String::new();
    for (number, row) in rows.iter().enumerate() {
        let first: Option<String> = row.try_get_by_index(0).map_err(|e| {
            config_error(format!(
                "--targets-query row {}: its first column is not text ({e}): select a URL or a schema name",
                number + 1
            ))
        })?;
        let second: Option<String> = row.try_get_by_index(1).ok().flatten();
        let Some(first) = first.filter(|f| !f.trim().is_empty()) else {
            return Err(config_error(format!(
                "--targets-query row {} names no target: select a URL or a schema name in its first column",
                number + 1
            )));
        };
        lines.push_str(&list_line(base, first.trim(), second.as_deref())?);
        lines.push('\n');
    }
    // Row numbers stand for line numbers: one line a row.
    parse_list(&lines, "--targets-query row", base)
}

/// A row of a query as a line of a list: a URL stays one, a bare schema name goes onto `base`.
fn list_line(base: &Target, first: &str, second: Option<&str>) -> Result<String> {
    let second = second.map(str::trim).filter(|s| !s.is_empty());
    if first.contains("://") {
        return Ok(match second {
            Some(schema) => format!("{first} {schema}"),
            None => first.to_owned(),
        });
    }
    let target = in_schema(base, first)?;
    Ok(match base.backend() {
        DbBackend::Postgres => format!("{} {first}", target.url()),
        _ => target.url().to_owned(),
    })
}

/// Refuses a list that is empty or names one target twice, naming both lines.
///
/// # Errors
/// [`EngineError::Config`].
pub fn check_distinct(targets: &[FleetTarget], source: &str) -> Result<()> {
    if targets.is_empty() {
        return Err(config_error(format!(
            "{source} names no target: list one URL (or URL and schema) a line, or pick a pattern that matches"
        )));
    }
    let mut seen: std::collections::HashMap<String, &Origin> = std::collections::HashMap::new();
    for t in targets {
        if let Some(first) = seen.insert(identity(&t.target), &t.origin) {
            return Err(config_error(format!(
                "{} names {} again, after {first}: each target may appear once; remove one of the lines",
                t.origin,
                t.label()
            )));
        }
    }
    Ok(())
}

/// Part `index` of `count` (1-based: `2/4` is the second of four), as `--shard K/N` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 1.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let refuse = || {
            format!(
                "`{s}` is not a shard: write K/N with 1 <= K <= N, e.g. 2/4 (a Kubernetes indexed Job passes $((JOB_COMPLETION_INDEX + 1))/N)"
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(refuse)?;
        let index: u32 = k.trim().parse().map_err(|_| refuse())?;
        let count: u32 = n.trim().parse().map_err(|_| refuse())?;
        if index == 0 || count == 0 || index > count {
            return Err(refuse());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether `target` belongs to this part: the first eight bytes of the SHA-256 of its
    /// [`identity`], modulo the number of parts. A target's part depends on nothing but itself.
    pub fn holds(&self, target: &Target) -> bool {
        let digest = Sha256::digest(identity(target).as_bytes());
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(head) % u64::from(self.count) == u64::from(self.index - 1)
    }

    /// The targets of this part, in their order.
    pub fn select(&self, targets: Vec<FleetTarget>) -> Vec<FleetTarget> {
        targets
            .into_iter()
            .filter(|t| self.holds(&t.target))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn base(url: &str) -> Target {
        Target::new(url, None, None, None).unwrap()
    }

    #[test]
    fn globs_match_runs_single_characters_and_literals() {
        assert!(glob_matches("tenant_*", "tenant_001"));
        assert!(glob_matches("tenant_*", "tenant_"));
        assert!(!glob_matches("tenant_*", "tenants"));
        assert!(glob_matches("t?n*_9", "tenant_9"));
        assert!(glob_matches("*", "public"));
        assert!(!glob_matches("a*b", "acbd"));
        assert!(glob_matches("a*b*c", "axxbyyc"));
    }

    #[test]
    fn lists_skip_comments_and_blank_lines_and_place_schemas() {
        let text = "# fleet\n\npostgres://u:secret@db/app tenant_a\nmysql://root@db/t1\n";
        let targets = parse_list(text, "fleet.txt", &base("postgres://h/db")).unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(
            targets[0].target.database_schema.as_deref(),
            Some("tenant_a")
        );
        assert_eq!(targets[0].origin.0, "fleet.txt:3");
        assert!(!targets[0].label().contains("secret"));
        assert_eq!(targets[1].target.database_name(), "t1");
    }

    #[test]
    fn a_schema_on_mysql_names_a_database_of_the_same_server() {
        let text = "mysql://root@db:3306/control tenant_7\n";
        let targets = parse_list(text, "f", &base("postgres://h/db")).unwrap();
        assert_eq!(targets[0].target.database_name(), "tenant_7");
        assert_eq!(targets[0].target.database_schema, None);
    }

    #[test]
    fn a_bad_line_is_refused_with_its_number_and_without_the_password() {
        let err = parse_list(
            "sqlite://a.db\nftp://u:hunter2@h/x\n",
            "f.txt",
            &base("sqlite://x"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("f.txt:2"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = parse_list("sqlite://a.db tenant\n", "f.txt", &base("sqlite://x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("SQLite has no schemas"), "{err}");
    }

    #[test]
    fn a_target_named_twice_is_refused_even_through_other_credentials() {
        let text = "postgres://a@db:5432/app s1\npostgres://b:pw@DB:5432/app s1\n";
        let targets = parse_list(text, "f.txt", &base("postgres://h/db")).unwrap();
        let err = check_distinct(&targets, "f.txt").unwrap_err().to_string();
        assert!(err.contains("f.txt:2") && err.contains("f.txt:1"), "{err}");
        let err = check_distinct(&[], "f.txt").unwrap_err().to_string();
        assert!(err.contains("names no target"), "{err}");
    }

    #[test]
    fn shards_are_disjoint_and_complete() {
        let text: String = (0..200)
            .map(|i| format!("postgres://h/db tenant_{i}\n"))
            .collect();
        let targets = parse_list(&text, "f", &base("postgres://h/db")).unwrap();
        let mut seen = vec![0; targets.len()];
        for k in 1..=7 {
            let shard: Shard = format!("{k}/7").parse().unwrap();
            for (i, t) in targets.iter().enumerate() {
                if shard.holds(&t.target) {
                    seen[i] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
    }

    #[test]
    fn shards_parse_one_based() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in ["0/4", "5/4", "1", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
