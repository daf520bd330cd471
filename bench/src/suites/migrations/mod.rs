//! Applying and reverting migrations, and the start-up no-op, as whole processes, against floors
//! measured in the same run:
//!
//! - the reference schema's `up` and `down --all` against the SQL `--dry-run` prints for them
//!   (ledger writes included), run by the backend's own client in one go;
//! - a no-op `up` and `status` against the client running `select 1`;
//! - 1, 100 and 1,000 generated trivial migrations, to show what each migration costs beyond
//!   its SQL, and `status` over 10,000 applied ones;
//! - SeaORM's own runner (`MigratorTrait`) over the same modules beside every figure.
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
use databases::Backend;
pub(crate) use report::Figure;

/// Who is measured: our `migrate`, SeaORM's own runner, or the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Migrate,
    /// `migrate up --single-transaction`.
    SingleTransaction,
    Stock,
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
    let suite = Suite {
        s,
        work: dir.path().to_path_buf(),
    };
    let mut figures = Vec::new();
    for db in &backends {
        figures.extend(suite.reference(db).await?);
    }
    for db in backends
        .iter()
        .filter(|db| !matches!(db, Backend::MariaDb(..)))
    {
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
    Ok(report::section(s, &figures, &floors, wrapper))
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

    /// The statements a dry run prints, transaction boundaries left out (the floor runs them
    /// all in one transaction).
    fn dry_run(&self, mut cmd: Command) -> Result<Vec<String>, String> {
        let out = stdout_of(cmd.args(["--dry-run", "--format", "json"]))?;
        let script: serde_json::Value = serde_json::from_slice(&out)
            .map_err(|e| format!("the dry run printed no JSON: {e}"))?;
        let statements: Vec<String> = script["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|section| section["statements"].as_array().into_iter().flatten())
            .filter_map(|s| s.as_str())
            .filter(|s| !matches!(*s, "BEGIN" | "COMMIT"))
            .map(str::to_owned)
            .collect();
        if statements.is_empty() {
            return Err("the dry run printed no statements".to_owned());
        }
        Ok(statements)
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
        let scratch = format!("bench_migrations_{}_dry", std::process::id());

        let url = db.create(&scratch).await?;
        let up_sql = self.write_script(db, "up", &self.dry_run(self.ours(set, &url, &["up"]))?)?;
        timed(&mut self.ours(set, &url, &["up"]))?;
        let down_sql = self.write_script(
            db,
            "down",
            &self.dry_run(self.ours(set, &url, &["down", "--all"]))?,
        )?;
        db.drop(&scratch).await?;

        let none = |_: &str| Ok(());
        let ours_up = |url: &str| timed(&mut self.ours(set, url, &["up"])).map(drop);
        let stock_up = |url: &str| timed(&mut self.stock(set, url, &["up"])).map(drop);

        let contenders = [
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
                run: Box::new(|url: &str| db.run_script(url, &up_sql)),
            },
        ];
        let samples = self.measure(db, &contenders, runs, true).await?;
        figures.push(figure(
            db,
            report::Case::Up {
                method: db.script_method(),
            },
            &contenders,
            samples,
        ));

        let contenders = [
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
                run: Box::new(|url: &str| db.run_script(url, &down_sql)),
            },
        ];
        let samples = self.measure(db, &contenders, runs, true).await?;
        figures.push(figure(
            db,
            report::Case::DownAll {
                method: db.script_method(),
            },
            &contenders,
            samples,
        ));

        for (case, ours, stock) in [
            (
                report::Case::NoOpUp {
                    method: db.query_method(),
                },
                "up",
                "up",
            ),
            (
                report::Case::Status {
                    method: db.query_method(),
                },
                "status",
                "status",
            ),
        ] {
            let contenders = [
                Contender {
                    who: Who::Migrate,
                    setup: Box::new(ours_up),
                    run: Box::new(move |url: &str| Ok(self.ours(set, url, &[ours]))),
                },
                Contender {
                    who: Who::Stock,
                    setup: Box::new(stock_up),
                    run: Box::new(move |url: &str| Ok(self.stock(set, url, &[stock]))),
                },
                Contender {
                    who: Who::Floor,
                    setup: Box::new(ours_up),
                    run: Box::new(|url: &str| db.query(url, "select 1")),
                },
            ];
            let samples = self.measure(db, &contenders, quick, false).await?;
            figures.push(figure(db, case, &contenders, samples));
        }
        Ok(figures)
    }

    /// `n` generated migrations: our `up`, with `--single-transaction`, the stock runner's, and
    /// their dry-run SQL through the client.
    async fn trivial(&self, db: &Backend<'_>, n: usize) -> Result<Vec<Figure>, String> {
        let mut figures = Vec::new();
        let set = Set::Trivial(n);
        let scratch = format!("bench_migrations_{}_dry", std::process::id());
        let url = db.create(&scratch).await?;
        let up_sql = self.write_script(
            db,
            &format!("trivial_{n}"),
            &self.dry_run(self.ours(set, &url, &["up"]))?,
        )?;
        db.drop(&scratch).await?;
        let none = |_: &str| Ok(());
        let contenders = [
            Contender {
                who: Who::Migrate,
                setup: Box::new(none),
                run: Box::new(|url: &str| Ok(self.ours(set, url, &["up"]))),
            },
            Contender {
                who: Who::SingleTransaction,
                setup: Box::new(none),
                run: Box::new(|url: &str| Ok(self.ours(set, url, &["up", "--single-transaction"]))),
            },
            Contender {
                who: Who::Stock,
                setup: Box::new(none),
                run: Box::new(|url: &str| Ok(self.stock(set, url, &["up"]))),
            },
            Contender {
                who: Who::Floor,
                setup: Box::new(none),
                run: Box::new(|url: &str| db.run_script(url, &up_sql)),
            },
        ];
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
