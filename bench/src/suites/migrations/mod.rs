//! Applying and reverting migrations, and the start-up no-op, as whole processes, against floors
//! measured in the same run:
//!
//! - the reference schema's `up` and `down --all` against the SQL `--dry-run` prints for them
//!   (ledger writes included), run by the backend's own client in one go;
//! - a no-op `up` and `status` against the client running `select 1`;
//! - 1, 100 and 1,000 generated trivial migrations, to show what each migration costs beyond
//!   its SQL, and `status` over 10,000 applied ones;
//! - SeaORM's own runner (`MigratorTrait`) over the same modules beside every figure, and
//!   sqlx-cli over migration files made from the same dry runs ([`crate::sqlx_cli`]).
//!
//! Contenders take turns, the first of each round rotating, so a machine that slows down slows
//! all of them alike.

mod databases;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Settings;
use crate::process::{command, median, stdout_of, timed};
use crate::servers::{MariaDb, Postgres};
use crate::sqlx_cli::{self, SqlxCli};
use databases::Backend;
pub(crate) use report::Figure;

/// Who is measured: our `migrate`, SeaORM's own runner, or the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Migrate,
    /// `migrate up --single-transaction`.
    SingleTransaction,
    Stock,
    /// sqlx-cli over the same statements as migration files.
    Sqlx,
    Floor,
}

/// What prepares a contender's database on a URL, untimed.
type Setup<'a> = Box<dyn Fn(&str) -> Result<(), String> + 'a>;
/// The timed command on a URL.
type Run<'a> = Box<dyn Fn(&str) -> Result<Command, String> + 'a>;

/// One measured program: what prepares its database (untimed) and what is timed.
struct Contender<'a> {
    who: Who,
    setup: Setup<'a>,
    run: Run<'a>,
}

/// Which migrations a binary runs.
#[derive(Debug, Clone, Copy)]
enum Set {
    Reference,
    Trivial(usize),
}

struct Suite<'a> {
    s: &'a Settings,
    /// Working directory of every measured process (no `.env` there) and home of the scripts.
    work: PathBuf,
    /// sqlx-cli, or why it could not be installed.
    sqlx: Result<SqlxCli, String>,
}

/// What the contenders run for one set on one backend, made from `migrate`'s dry runs: the
/// floor's scripts, and sqlx-cli's migration files.
struct Scripts {
    up: PathBuf,
    down: PathBuf,
    /// sqlx-cli's `--source` directory.
    sqlx: PathBuf,
}

/// Runs the suite and returns its BENCHMARKS.md section.
pub(crate) async fn run(s: &Settings) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a directory: {e}"))?;
    let pg = Postgres::postgres(&s.postgres_url).await?;
    let maria = MariaDb::mariadb(&s.mariadb_url).await?;
    let sqlite_version = sqlite_version()?;
    let backends = [
        Backend::Postgres(&pg, pg.version().await),
        Backend::MariaDb(&maria, maria.version().await),
        Backend::Sqlite(dir.path().to_path_buf(), sqlite_version),
    ];
    let tools = std::env::current_dir()
        .map_err(|e| format!("cannot read the working directory: {e}"))?
        .join("bench")
        .join("tools");
    let sqlx = sqlx_cli::install(&tools);
    if let Err(why) = &sqlx {
        eprintln!("migrations: sqlx-cli is not measured: {why}");
    }
    let suite = Suite {
        s,
        work: dir.path().to_path_buf(),
        sqlx,
    };
    let mut figures = Vec::new();
    for db in &backends {
        figures.extend(suite.reference(db).await?);
    }
    for db in &backends {
        for n in [1, 100, 1000] {
            figures.extend(suite.trivial(db, n).await?);
        }
    }
    figures.extend(suite.big_status(&backends[0], 10_000).await?);
    let floors = vec![
        (
            "PostgreSQL".to_owned(),
            crate::servers::pg_client("psql").display().to_string(),
        ),
        ("MariaDB".to_owned(), resolved("mariadb")),
        ("SQLite".to_owned(), resolved("sqlite3")),
    ];
    let wrapper = crate::servers::wrapper_cost(&s.postgres_url, 30);
    let peer = match &suite.sqlx {
        Ok(sqlx) => Ok(sqlx.version.as_str()),
        Err(why) => Err(why.as_str()),
    };
    Ok(report::section(s, &figures, &floors, wrapper, peer))
}

/// Where the PATH finds `name`, with links followed: the binary a floor runs.
fn resolved(name: &str) -> String {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .map(|path| std::fs::canonicalize(&path).unwrap_or(path))
        .map_or_else(|| name.to_owned(), |path| path.display().to_string())
}

fn sqlite_version() -> Result<String, String> {
    let out = stdout_of(command(Path::new("sqlite3")).arg("-version"))
        .map_err(|e| format!("{e}; install the sqlite3 command-line shell"))?;
    let text = String::from_utf8_lossy(&out);
    Ok(format!(
        "SQLite {}",
        text.split_whitespace().next().unwrap_or("3")
    ))
}

impl<'a> Suite<'a> {
    fn bin(&self, name: &str) -> PathBuf {
        self.s.bin_dir.join(name)
    }

    /// Our binary for `set` on `url`: `migrate`, or `trivial-migrate` with its count.
    fn ours(&self, set: Set, url: &str, args: &[&str]) -> Command {
        let mut cmd = match set {
            Set::Reference => command(&self.bin("migrate")),
            Set::Trivial(n) => {
                let mut cmd = command(&self.bin("trivial-migrate"));
                cmd.env(bench::trivial::COUNT_VAR, n.to_string());
                cmd
            }
        };
        cmd.args(args)
            .current_dir(&self.work)
            .env("DATABASE_URL", url);
        cmd
    }

    /// SeaORM's own runner for `set` on `url`.
    fn stock(&self, set: Set, url: &str, args: &[&str]) -> Command {
        let mut cmd = command(&self.bin("stock-migrate"));
        if let Set::Trivial(n) = set {
            cmd.env(bench::trivial::COUNT_VAR, n.to_string());
        }
        cmd.args(args)
            .current_dir(&self.work)
            .env("DATABASE_URL", url);
        cmd
    }

    /// The sections a dry run prints, each a title and its statements, transaction
    /// boundaries left out (the floor runs them all in one transaction).
    fn dry_run(&self, mut cmd: Command) -> Result<Vec<(String, Vec<String>)>, String> {
        let out = stdout_of(cmd.args(["--dry-run", "--format", "json"]))?;
        let script: serde_json::Value = serde_json::from_slice(&out)
            .map_err(|e| format!("the dry run printed no JSON: {e}"))?;
        let sections: Vec<(String, Vec<String>)> = script["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|section| {
                let title = section["title"].as_str().unwrap_or_default().to_owned();
                let statements = section["statements"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str())
                    .filter(|s| !matches!(*s, "BEGIN" | "COMMIT"))
                    .map(str::to_owned)
                    .collect();
                (title, statements)
            })
            .collect();
        if sections.iter().all(|(_, s)| s.is_empty()) {
            return Err("the dry run printed no statements".to_owned());
        }
        Ok(sections)
    }

    /// The floor's scripts and sqlx-cli's files for `set` on `db`, from the dry runs of `up`
    /// on an empty database and of `down --all` once it is applied.
    async fn scripts(&self, db: &Backend<'_>, set: Set, name: &str) -> Result<Scripts, String> {
        let scratch = format!("bench_migrations_{}_dry", std::process::id());
        let url = db.create(&scratch).await?;
        let up = self.dry_run(self.ours(set, &url, &["up"]))?;
        timed(&mut self.ours(set, &url, &["up"]))?;
        let down = self.dry_run(self.ours(set, &url, &["down", "--all"]))?;
        db.drop(&scratch).await?;
        let all = |sections: &[(String, Vec<String>)]| -> Vec<String> {
            sections.iter().flat_map(|(_, s)| s.clone()).collect()
        };
        let scripts = Scripts {
            up: self.write_script(db, &format!("{name}_up"), &all(&up))?,
            down: self.write_script(db, &format!("{name}_down"), &all(&down))?,
            sqlx: self.work.join(format!("sqlx_{}_{name}", db.short())),
        };
        if self.sqlx.is_ok() {
            let noop = match db {
                Backend::MariaDb(..) => "DO 0;\n",
                _ => "",
            };
            sqlx_cli::write(&scripts.sqlx, &sqlx_files(&up, &down), noop)?;
        }
        Ok(scripts)
    }

    /// sqlx-cli running `args` over `scripts` on `url`.
    fn sqlx(&self, scripts: &Scripts, url: &str, args: &[&str]) -> Result<Command, String> {
        match &self.sqlx {
            Ok(sqlx) => Ok(sqlx.migrate(&scripts.sqlx, url, args)),
            Err(why) => Err(why.clone()),
        }
    }

    /// sqlx-cli as a contender, when it is installed.
    fn sqlx_contender<'s>(
        &'s self,
        scripts: &'s Scripts,
        setup: Option<&'static [&'static str]>,
        args: &'static [&'static str],
    ) -> Option<Contender<'s>> {
        self.sqlx.as_ref().ok()?;
        let setup: Setup<'s> = match setup {
            Some(setup_args) => Box::new(move |url: &str| {
                timed(&mut self.sqlx(scripts, url, setup_args)?).map(drop)
            }),
            None => Box::new(|_: &str| Ok(())),
        };
        Some(Contender {
            who: Who::Sqlx,
            setup,
            run: Box::new(move |url: &str| self.sqlx(scripts, url, args)),
        })
    }

    fn write_script(
        &self,
        db: &Backend<'_>,
        name: &str,
        statements: &[String],
    ) -> Result<PathBuf, String> {
        let path = self.work.join(format!("{}_{name}.sql", db.short()));
        std::fs::write(&path, db.script(statements))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    /// Times every contender `runs` times; each run gets a new database prepared by the
    /// contender's setup when `fresh`, else each contender prepares one database once.
    async fn measure(
        &self,
        db: &Backend<'_>,
        contenders: &[Contender<'_>],
        runs: usize,
        fresh: bool,
    ) -> Result<Vec<Vec<f64>>, String> {
        let name = |i: usize| format!("bench_migrations_{}_{i}", std::process::id());
        let mut urls = Vec::new();
        if !fresh {
            for (i, c) in contenders.iter().enumerate() {
                let url = db.create(&name(i)).await?;
                (c.setup)(&url)?;
                urls.push(url);
            }
        }
        let mut samples = vec![Vec::new(); contenders.len()];
        for run in 0..runs {
            for k in 0..contenders.len() {
                let i = (run + k) % contenders.len();
                let c = &contenders[i];
                let url = if fresh {
                    let url = db.create(&name(i)).await?;
                    (c.setup)(&url)?;
                    url
                } else {
                    urls[i].clone()
                };
                let took = timed(&mut (c.run)(&url)?)
                    .map_err(|e| format!("{} {:?}: {e}", db.short(), c.who))?;
                samples[i].push(took);
            }
        }
        for i in 0..contenders.len() {
            db.drop(&name(i)).await?;
        }
        Ok(samples)
    }
}

/// The figure of one case, its medians logged as they come.
fn figure(
    db: &Backend<'_>,
    case: report::Case,
    contenders: &[Contender<'_>],
    samples: Vec<Vec<f64>>,
) -> Figure {
    let mut figure = Figure::new(db.label(), case);
    for (c, s) in contenders.iter().zip(samples) {
        eprintln!(
            "migrations: {} {}: {:?} median {:.1} ms",
            db.short(),
            figure.case.title(),
            c.who,
            median(&s) * 1000.0
        );
        figure.samples.push((c.who, s));
    }
    figure
}

impl Suite<'_> {
    /// The reference schema: `up`, `down --all`, a no-op `up` and `status`.
    async fn reference(&self, db: &Backend<'_>) -> Result<Vec<Figure>, String> {
        let mut figures = Vec::new();
        let set = Set::Reference;
        let runs = self.s.runs * 3;
        let quick = self.s.runs * 10;
        let scripts = self.scripts(db, set, "reference").await?;

        let none = |_: &str| Ok(());
        let ours_up = |url: &str| timed(&mut self.ours(set, url, &["up"])).map(drop);
        let stock_up = |url: &str| timed(&mut self.stock(set, url, &["up"])).map(drop);

        let mut contenders = vec![
            Contender {
                who: Who::Migrate,
                setup: Box::new(none),
                run: Box::new(|url: &str| Ok(self.ours(set, url, &["up"]))),
            },
            Contender {
                who: Who::Stock,
                setup: Box::new(none),
                run: Box::new(|url: &str| Ok(self.stock(set, url, &["up"]))),
            },
            Contender {
                who: Who::Floor,
                setup: Box::new(none),
                run: Box::new(|url: &str| db.run_script(url, &scripts.up)),
            },
        ];
        contenders.extend(self.sqlx_contender(&scripts, None, &["run"]));
        let samples = self.measure(db, &contenders, runs, true).await?;
        let method = db.script_method();
        figures.push(figure(
            db,
            report::Case::Up { method },
            &contenders,
            samples,
        ));

        let mut contenders = vec![
            Contender {
                who: Who::Migrate,
                setup: Box::new(ours_up),
                run: Box::new(|url: &str| Ok(self.ours(set, url, &["down", "--all", "--yes"]))),
            },
            Contender {
                who: Who::Stock,
                setup: Box::new(stock_up),
                run: Box::new(|url: &str| Ok(self.stock(set, url, &["reset"]))),
            },
            Contender {
                who: Who::Floor,
                setup: Box::new(ours_up),
                run: Box::new(|url: &str| db.run_script(url, &scripts.down)),
            },
        ];
        contenders.extend(self.sqlx_contender(
            &scripts,
            Some(&["run"]),
            &["revert", "--target-version", "0"],
        ));
        let samples = self.measure(db, &contenders, runs, true).await?;
        figures.push(figure(
            db,
            report::Case::DownAll { method },
            &contenders,
            samples,
        ));

        let method = db.query_method();
        for (case, ours, sqlx) in [
            (report::Case::NoOpUp { method }, "up", "run"),
            (report::Case::Status { method }, "status", "info"),
        ] {
            let mut contenders = vec![
                Contender {
                    who: Who::Migrate,
                    setup: Box::new(ours_up),
                    run: Box::new(move |url: &str| Ok(self.ours(set, url, &[ours]))),
                },
                Contender {
                    who: Who::Stock,
                    setup: Box::new(stock_up),
                    run: Box::new(move |url: &str| Ok(self.stock(set, url, &[ours]))),
                },
                Contender {
                    who: Who::Floor,
                    setup: Box::new(ours_up),
                    run: Box::new(|url: &str| db.query(url, "select 1")),
                },
            ];
            let args: &'static [&'static str] = if sqlx == "run" { &["run"] } else { &["info"] };
            contenders.extend(self.sqlx_contender(&scripts, Some(&["run"]), args));
            let samples = self.measure(db, &contenders, quick, false).await?;
            figures.push(figure(db, case, &contenders, samples));
        }
        Ok(figures)
    }

    /// `n` generated migrations: our `up`, with `--single-transaction` where DDL is
    /// transactional, the stock runner's, sqlx-cli's, and their dry-run SQL through the client.
    async fn trivial(&self, db: &Backend<'_>, n: usize) -> Result<Vec<Figure>, String> {
        let mut figures = Vec::new();
        let set = Set::Trivial(n);
        let scripts = self.scripts(db, set, &format!("trivial_{n}")).await?;
        let none = |_: &str| Ok(());
        let mut contenders = vec![
            Contender {
                who: Who::Migrate,
                setup: Box::new(none),
                run: Box::new(|url: &str| Ok(self.ours(set, url, &["up"]))),
            },
            Contender {
                who: Who::Stock,
                setup: Box::new(none),
                run: Box::new(|url: &str| Ok(self.stock(set, url, &["up"]))),
            },
            Contender {
                who: Who::Floor,
                setup: Box::new(none),
                run: Box::new(|url: &str| db.run_script(url, &scripts.up)),
            },
        ];
        if !matches!(db, Backend::MariaDb(..)) {
            contenders.push(Contender {
                who: Who::SingleTransaction,
                setup: Box::new(none),
                run: Box::new(|url: &str| Ok(self.ours(set, url, &["up", "--single-transaction"]))),
            });
        }
        contenders.extend(self.sqlx_contender(&scripts, None, &["run"]));
        let samples = self.measure(db, &contenders, self.s.runs * 3, true).await?;
        figures.push(figure(
            db,
            report::Case::Trivial {
                n,
                method: db.script_method(),
            },
            &contenders,
            samples,
        ));
        Ok(figures)
    }

    /// `status` with `n` applied migrations, against the client reading the whole ledger.
    async fn big_status(&self, db: &Backend<'_>, n: usize) -> Result<Vec<Figure>, String> {
        let mut figures = Vec::new();
        let set = Set::Trivial(n);
        let contenders = [
            Contender {
                who: Who::Migrate,
                setup: Box::new(|url: &str| timed(&mut self.ours(set, url, &["up"])).map(drop)),
                run: Box::new(|url: &str| Ok(self.ours(set, url, &["status"]))),
            },
            Contender {
                who: Who::Stock,
                setup: Box::new(|url: &str| timed(&mut self.stock(set, url, &["up"])).map(drop)),
                run: Box::new(|url: &str| Ok(self.stock(set, url, &["status"]))),
            },
            Contender {
                who: Who::Floor,
                setup: Box::new(|url: &str| timed(&mut self.ours(set, url, &["up"])).map(drop)),
                run: Box::new(|url: &str| {
                    db.query(url, "SELECT * FROM schema_migrations ORDER BY version")
                }),
            },
        ];
        let samples = self
            .measure(db, &contenders, self.s.runs * 3, false)
            .await?;
        figures.push(figure(
            db,
            report::Case::BigStatus { n },
            &contenders,
            samples,
        ));
        Ok(figures)
    }
}

/// Whether `sql` is a write to `migrate`'s own ledger or history, which sqlx-cli replaces with
/// its own `_sqlx_migrations`.
fn ledger_write(sql: &str) -> bool {
    let bare: String = sql
        .chars()
        .filter(|c| !matches!(c, '"' | '`'))
        .take(64)
        .collect::<String>()
        .to_ascii_uppercase();
    ["INSERT INTO ", "UPDATE ", "DELETE FROM "]
        .iter()
        .any(|verb| bare.starts_with(&format!("{verb}SCHEMA_MIGRATIONS")))
}

/// The migrations of a dry run's sections as sqlx-cli files: each `up` section's statements
/// (ledger writes left out, as sqlx-cli keeps its own) with the `down` section of the same
/// migration. A section is titled by its migration, `<version>_<name> (…)`.
fn sqlx_files(
    up: &[(String, Vec<String>)],
    down: &[(String, Vec<String>)],
) -> Vec<sqlx_cli::Files> {
    let body = |statements: &[String]| -> Vec<String> {
        statements
            .iter()
            .filter(|s| !ledger_write(s))
            .cloned()
            .collect()
    };
    up.iter()
        .filter(|(title, _)| !title.starts_with("create the ledger"))
        .filter_map(|(title, statements)| {
            let label = label_of(title);
            let (version, name) = label.split_once('_')?;
            let down = down
                .iter()
                .find(|(t, _)| label_of(t) == label)
                .map(|(_, s)| body(s))
                .unwrap_or_default();
            Some(sqlx_cli::Files {
                version: version.to_owned(),
                name: name.to_owned(),
                up: body(statements),
                down,
            })
        })
        .collect()
}

/// The migration a dry-run section is titled by.
fn label_of(title: &str) -> String {
    title.split(" (").next().unwrap_or(title).to_owned()
}
