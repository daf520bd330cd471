//! The workspace's benchmarks: not timed tests, but measurements against a floor taken in the
//! same run on the same machine. `bench/run.sh [suite...]` builds the release binaries and runs
//! this; each suite rewrites its own section of `BENCHMARKS.md`.
//!
//! Suites live in [`suites`]; adding one means a module there, a [`Suite`] variant and a line in
//! [`main`].

mod machine;
mod markdown;
mod process;
mod proxy;
mod servers;
mod sqlx_cli;
mod suites;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};

/// Runs benchmark suites and writes their results into BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Cli {
    /// Suites to run; every suite when none is named
    #[arg(value_enum)]
    suites: Vec<Suite>,

    /// Runs per measurement; the median is reported
    #[arg(long, env = "BENCH_RUNS", default_value_t = 3)]
    runs: usize,

    /// The `load` profile's scale for the seeds suite
    #[arg(long, env = "BENCH_SCALE", default_value_t = 100)]
    scale: u32,

    /// PostgreSQL admin URL on which suites create and drop their own databases [default:
    /// TEST_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432/test]
    #[arg(long, env = "BENCH_POSTGRES_URL", hide_env_values = true)]
    postgres_url: Option<String>,

    /// MariaDB/MySQL admin URL on which suites create and drop their own databases [default:
    /// TEST_MARIADB_URL, else mysql://root@127.0.0.1:3306/test]
    #[arg(long, env = "BENCH_MARIADB_URL", hide_env_values = true)]
    mariadb_url: Option<String>,

    /// The file the results go to
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

/// A benchmark suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Suite {
    /// `up`, `down --all`, no-op `up` and `status` on the three backends, many migrations and a
    /// big ledger, against the same SQL through each backend's client and SeaORM's own runner
    Migrations,
    /// `seed load --scale N` on PostgreSQL and SQLite against COPY and bulk-insert floors
    Seeds,
    /// `scripts/db.sh reset` end to end and the incremental build after touching a migration
    Workflow,
    /// `migrate backup` and `migrate restore` of the demo database against the dump tools run
    /// by hand (PostgreSQL, MariaDB)
    Backups,
    /// `migrate up --schemas` over 1,000 PostgreSQL schemas against `psql -1 -f` per schema at
    /// the same parallelism, the same fleet with nothing pending, and its peak memory
    Fleet,
    /// A no-op `up` and a lock taken and given back under `--lock-strategy session` and
    /// `--lock-strategy table` on the one MariaDB server, with their round trips counted
    Locks,
}

/// What every suite gets.
pub(crate) struct Settings {
    pub runs: usize,
    pub scale: u32,
    pub postgres_url: String,
    pub mariadb_url: String,
    /// Where `migrate` and `seed` (release builds) are: beside this binary.
    pub bin_dir: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let bin_dir = match std::env::current_exe() {
        Ok(exe) => exe.parent().map(PathBuf::from).unwrap_or_default(),
        Err(e) => {
            eprintln!("error: cannot locate this binary: {e}");
            return ExitCode::from(2);
        }
    };
    let settings = Settings {
        runs: cli.runs.max(1),
        scale: cli.scale,
        postgres_url: cli
            .postgres_url
            .or_else(|| std::env::var("TEST_POSTGRES_URL").ok())
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
        mariadb_url: cli
            .mariadb_url
            .or_else(|| std::env::var("TEST_MARIADB_URL").ok())
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "mysql://root@127.0.0.1:3306/test".to_owned()),
        bin_dir,
    };
    let suites = if cli.suites.is_empty() {
        Suite::value_variants().to_vec()
    } else {
        cli.suites
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    for suite in suites {
        let section = match suite {
            Suite::Migrations => runtime.block_on(suites::migrations::run(&settings)),
            Suite::Seeds => runtime.block_on(suites::seeds::run(&settings)),
            Suite::Workflow => runtime.block_on(suites::workflow::run(&settings)),
            Suite::Backups => runtime.block_on(suites::backups::run(&settings)),
            Suite::Fleet => runtime.block_on(suites::fleet::run(&settings)),
            Suite::Locks => runtime.block_on(suites::locks::run(&settings)),
        };
        let name = suite
            .to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default();
        match section.and_then(|body| markdown::write_section(&cli.out, &name, &body)) {
            Ok(()) => eprintln!("{name}: results written to {}", cli.out.display()),
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
