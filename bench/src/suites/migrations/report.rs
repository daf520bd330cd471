//! The migrations suite's BENCHMARKS.md section: medians, ratios to the floor, and each target
//! checked against the figures of the same run.

use std::fmt::Write as _;

use super::Who;
use crate::Settings;
use crate::machine;
use crate::process::median;

/// What a figure measures.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Case {
    Up { method: &'static str },
    DownAll { method: &'static str },
    NoOpUp { method: &'static str },
    Status { method: &'static str },
    Trivial { n: usize, method: &'static str },
    BigStatus { n: usize },
}

impl Case {
    pub fn title(&self) -> String {
        match self {
            Case::Up { .. } => "`up` (11 migrations)".to_owned(),
            Case::DownAll { .. } => "`down --all`".to_owned(),
            Case::NoOpUp { .. } => "no-op `up`".to_owned(),
            Case::Status { .. } => "`status`".to_owned(),
            Case::Trivial { n, .. } => format!("`up`, {n} trivial"),
            Case::BigStatus { n } => format!("`status`, {n} applied"),
        }
    }

    fn floor(&self) -> String {
        match self {
            Case::Up { method } | Case::DownAll { method } => {
                format!("the same SQL (dry run) through {method}")
            }
            Case::Trivial { method, .. } => format!("the same SQL (dry run) through {method}"),
            Case::NoOpUp { method } | Case::Status { method } => (*method).to_owned(),
            Case::BigStatus { .. } => {
                "`psql -c 'SELECT * FROM schema_migrations ORDER BY version'`".to_owned()
            }
        }
    }

    /// The most `migrate` may take, as a multiple of the floor, where a target is set.
    fn target(&self, who: Who, backend: &str) -> Option<f64> {
        let pg = backend.starts_with("PostgreSQL");
        let maria = backend.starts_with("MariaDB") || backend.starts_with("MySQL");
        let sqlite = backend.starts_with("SQLite");
        match (self, who) {
            (Case::Up { .. } | Case::DownAll { .. }, Who::Migrate) if pg || maria => Some(1.05),
            (Case::Up { .. } | Case::DownAll { .. }, Who::Migrate) if sqlite => Some(1.5),
            (Case::NoOpUp { .. } | Case::Status { .. }, Who::Migrate) if pg => Some(0.9),
            (Case::Trivial { n: 1000, .. }, Who::Migrate) if pg => Some(1.5),
            (Case::Trivial { n: 1000, .. }, Who::SingleTransaction) if pg => Some(1.1),
            _ => None,
        }
    }
}

/// One case on one backend: every contender's samples, in seconds.
pub(crate) struct Figure {
    pub backend: String,
    pub case: Case,
    pub samples: Vec<(Who, Vec<f64>)>,
}

impl Figure {
    pub fn new(backend: &str, case: Case) -> Self {
        Self {
            backend: backend.to_owned(),
            case,
            samples: Vec::new(),
        }
    }

    fn median(&self, who: Who) -> Option<f64> {
        self.samples
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, s)| median(s))
    }

    fn ratio(&self, who: Who) -> Option<f64> {
        Some(self.median(who)? / self.median(Who::Floor)?)
    }

    fn runs(&self) -> usize {
        self.samples.first().map_or(0, |(_, s)| s.len())
    }
}

fn time(seconds: Option<f64>) -> String {
    match seconds {
        None => "–".to_owned(),
        Some(s) if s >= 10.0 => format!("{s:.1} s"),
        Some(s) if s >= 1.0 => format!("{s:.2} s"),
        Some(s) => format!("{:.1} ms", s * 1000.0),
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}×"))
}

/// A target's verdict: met when `migrate` is within its bound and not slower than the stock
/// runner.
struct Verdict {
    line: String,
    met: bool,
}

fn verdicts(figures: &[Figure]) -> Vec<Verdict> {
    let mut out = Vec::new();
    for f in figures {
        for who in [Who::Migrate, Who::SingleTransaction] {
            let (Some(bound), Some(r)) = (f.case.target(who, &f.backend), f.ratio(who)) else {
                continue;
            };
            let label = if who == Who::SingleTransaction {
                format!("{} with `--single-transaction`", f.case.title())
            } else {
                f.case.title()
            };
            out.push(Verdict {
                line: format!(
                    "{}, {label}: {} of the floor (target ≤ {bound:.2}×)",
                    f.backend,
                    ratio(Some(r))
                ),
                met: r <= bound,
            });
        }
        for (peer, name, target) in [
            (Who::Stock, "stock SeaORM", "never slower"),
            (Who::Sqlx, "sqlx-cli", "faster"),
        ] {
            if let (Some(ours), Some(theirs)) = (f.median(Who::Migrate), f.median(peer)) {
                out.push(Verdict {
                    line: format!(
                        "{}, {}: `migrate` {} against {name} {} (target: {target})",
                        f.backend,
                        f.case.title(),
                        time(Some(ours)),
                        time(Some(theirs))
                    ),
                    met: if peer == Who::Sqlx {
                        ours < theirs
                    } else {
                        ours <= theirs
                    },
                });
            }
        }
    }
    out
}

/// The BENCHMARKS.md section. `floors` says which client binary each floor ran, `wrapper` what
/// Debian's `psql` wrapper adds to a call (wrapped, direct), when the PATH has one, and `peer`
/// which sqlx-cli ran (or why none did).
pub(crate) fn section(
    s: &Settings,
    figures: &[Figure],
    floors: &[(String, String)],
    wrapper: Option<(f64, f64)>,
    peer: Result<&str, &str>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Applying migrations\n");
    let _ = writeln!(
        out,
        "Whole processes, wall time, medians; each ratio is to the floor measured in the same run, \
         contenders taking turns. `migrate` runs with everything on: the migration lock, the \
         ledger and its history, checksums. Stock SeaORM is `MigratorTrait` (ledger \
         `seaql_migrations`) over the same migration modules, built as `stock-migrate` in \
         `bench/`.\n"
    );
    let _ = writeln!(out, "Peers:\n");
    let _ = writeln!(
        out,
        "- stock SeaORM: sea-orm-migration {}, the same migration modules.",
        sea_orm_version()
    );
    match peer {
        Ok(version) => {
            let _ = writeln!(
                out,
                "- sqlx-cli: `{version}`, installed by the suite with `cargo install` into \
                 `bench/tools/` (PostgreSQL, MySQL and SQLite drivers, no TLS). Its migrations \
                 are files the suite writes from `migrate`'s own dry runs: per migration, the \
                 statements of its `up` in `<version>_<name>.up.sql` and of its `down` in \
                 `.down.sql`, identical to what `migrate` sends. Its commands: `sqlx migrate \
                 run` (`up`), `sqlx migrate revert --target-version 0` (`down --all`), `sqlx \
                 migrate info` (`status`)."
            );
        }
        Err(why) => {
            let _ = writeln!(out, "- sqlx-cli: not measured in this run: {why}.");
        }
    }
    out.push('\n');
    let _ = writeln!(out, "How to read this:\n");
    let _ = writeln!(
        out,
        "- A floor is the database's own client running the same SQL `migrate --dry-run` prints \
         (or `select 1` for the commands that only read), as the binary itself, not a wrapper:"
    );
    for (backend, binary) in floors {
        let _ = writeln!(out, "  - {backend}: `{binary}`");
    }
    if let Some((wrapped, direct)) = wrapper {
        let _ = writeln!(
            out,
            "- Debian's `psql` on the PATH is `pg_wrapper`, a Perl script that starts the real \
             client: one `psql -c 'select 1'` took {:.1} ms through it and {:.1} ms direct \
             (medians), so a floor started from the PATH would be {:.1} ms slower a call.",
            wrapped * 1000.0,
            direct * 1000.0,
            (wrapped - direct) * 1000.0
        );
    }
    let _ = writeln!(
        out,
        "- Transport: every client and `migrate` talk to the loopback servers over TCP without \
         TLS (`PGSSLMODE=disable`, `mariadb --skip-ssl`), as `migrate` does on loopback unless the URL asks \
         for TLS.\n"
    );
    let _ = writeln!(out, "### The reference schema (11 migrations)\n");
    let _ = writeln!(
        out,
        "| backend | command | `migrate` | stock SeaORM | sqlx-cli | floor | `migrate` ÷ floor | stock ÷ floor | sqlx-cli ÷ floor | floor is | runs |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|");
    for f in figures.iter().filter(|f| {
        matches!(
            f.case,
            Case::Up { .. } | Case::DownAll { .. } | Case::NoOpUp { .. } | Case::Status { .. }
        )
    }) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | **{}** | {} | {} | {} | {} |",
            f.backend,
            f.case.title(),
            time(f.median(Who::Migrate)),
            time(f.median(Who::Stock)),
            time(f.median(Who::Sqlx)),
            time(f.median(Who::Floor)),
            ratio(f.ratio(Who::Migrate)),
            ratio(f.ratio(Who::Stock)),
            ratio(f.ratio(Who::Sqlx)),
            f.case.floor(),
            f.runs()
        );
    }
    let _ = writeln!(out, "\n### Many migrations\n");
    let _ = writeln!(
        out,
        "Generated migrations, each creating a one-column table (`bench/src/trivial.rs`); the \
         floor runs their dry-run SQL, ledger writes included, in one transaction. Overhead per \
         migration is (`migrate` − floor) ÷ migrations.\n"
    );
    let _ = writeln!(
        out,
        "| backend | migrations | `migrate` | `--single-transaction` | stock SeaORM | sqlx-cli | floor | `migrate` ÷ floor | `--single-transaction` ÷ floor | stock ÷ floor | sqlx-cli ÷ floor | overhead per migration | runs |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for f in figures {
        let Case::Trivial { n, .. } = f.case else {
            continue;
        };
        let overhead = match (f.median(Who::Migrate), f.median(Who::Floor)) {
            (Some(ours), Some(floor)) => format!("{:.2} ms", (ours - floor) * 1000.0 / n as f64),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {n} | {} | {} | {} | {} | {} | **{}** | **{}** | {} | {} | {overhead} | {} |",
            f.backend,
            time(f.median(Who::Migrate)),
            time(f.median(Who::SingleTransaction)),
            time(f.median(Who::Stock)),
            time(f.median(Who::Sqlx)),
            time(f.median(Who::Floor)),
            ratio(f.ratio(Who::Migrate)),
            ratio(f.ratio(Who::SingleTransaction)),
            ratio(f.ratio(Who::Stock)),
            ratio(f.ratio(Who::Sqlx)),
            f.runs()
        );
    }
    for f in figures {
        let Case::BigStatus { n } = f.case else {
            continue;
        };
        let _ = writeln!(out, "\n### `status` with {n} applied migrations\n");
        let _ = writeln!(
            out,
            "| backend | `migrate status` | stock `status` | floor | `migrate` ÷ floor | stock ÷ floor | floor is | runs |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|---:|");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | **{}** | {} | {} | {} |",
            f.backend,
            time(f.median(Who::Migrate)),
            time(f.median(Who::Stock)),
            time(f.median(Who::Floor)),
            ratio(f.ratio(Who::Migrate)),
            ratio(f.ratio(Who::Stock)),
            f.case.floor(),
            f.runs()
        );
    }
    let _ = writeln!(out, "\n### Targets\n");
    for v in verdicts(figures) {
        let mark = if v.met { "met" } else { "**not met**" };
        let _ = writeln!(out, "- {}: {mark}", v.line);
    }
    out.push('\n');
    out.push_str(&machine::footer(&format!(
        "`bench/run.sh migrations` (`BENCH_RUNS` scales the runs: {} per `up`/`down` figure, {} \
         per no-op figure here; `BENCH_POSTGRES_URL` and `BENCH_MARIADB_URL` name the servers; \
         `psql`, `mariadb` and `sqlite3` must be installed).",
        s.runs * 3,
        s.runs * 10
    )));
    out
}

/// The sea-orm-migration version the workspace builds against, from `Cargo.lock`.
fn sea_orm_version() -> String {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    lock.split("[[package]]")
        .find(|p| p.contains("name = \"sea-orm-migration\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map_or_else(|| "2.0".to_owned(), |v| v.trim_matches('"').to_owned())
}
