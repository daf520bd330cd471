//! The migration lock's two strategies on the one MariaDB server (no cluster), as whole
//! processes: `--lock-strategy session` (`GET_LOCK`) against `--lock-strategy table` (the lock
//! row with its lease), for
//!
//! - a no-op `up`, what every service start runs: one read of the ledger, no lock either way;
//! - `adopt` on a database whose ledger exists: the lock taken, the ledger read under it,
//!   nothing written, the lock given back; what taking the lock itself costs.
//!
//! Wall times are medians of paired runs, the strategies taking turns. Round trips are counted
//! by a proxy between `migrate` and the server ([`crate::proxy`]): the commands it sent and the
//! connections it opened, each of which is a handshake of a few round trips more.

use std::fmt::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use url::Url;

use crate::Settings;
use crate::machine;
use crate::process::{command, median, timed};
use crate::proxy::{Counts, Proxy};
use crate::servers::MariaDb;

/// The strategies compared, as `--lock-strategy` takes them.
const STRATEGIES: [&str; 2] = ["session", "table"];

/// A command measured under both strategies.
struct Case {
    title: &'static str,
    args: &'static [&'static str],
}

const CASES: [Case; 2] = [
    Case {
        title: "no-op `up`",
        args: &["up"],
    },
    Case {
        title: "`adopt` (the lock taken and given back, nothing written)",
        args: &["adopt"],
    },
];

/// How many runs of each command go through the counting proxy (untimed).
const COUNTED: usize = 5;

/// What the counted runs of one command sent: the median and the range of each count.
#[derive(Debug, Clone, Copy)]
struct Counted {
    commands: (u64, u64, u64),
    connections: (u64, u64, u64),
}

impl Counted {
    fn of(seen: &[Counts]) -> Self {
        let spread = |mut values: Vec<u64>| {
            values.sort_unstable();
            (
                values.first().copied().unwrap_or(0),
                values.get(values.len() / 2).copied().unwrap_or(0),
                values.last().copied().unwrap_or(0),
            )
        };
        Self {
            commands: spread(seen.iter().map(|c| c.commands).collect()),
            connections: spread(seen.iter().map(|c| c.connections).collect()),
        }
    }
}

/// `median` or, when the runs differed, `median (min–max)`.
fn shown((min, median, max): (u64, u64, u64)) -> String {
    if min == max {
        median.to_string()
    } else {
        format!("{median} ({min}–{max})")
    }
}

/// One strategy's figures for one case.
struct Figure {
    wall: f64,
    counts: Counted,
    runs: usize,
}

/// `migrate` on `url` under `strategy`, in `work` (no `.env` there).
fn migrate(s: &Settings, work: &Path, url: &str, strategy: &str, args: &[&str]) -> Command {
    let mut cmd = command(&s.bin_dir.join("migrate"));
    cmd.current_dir(work)
        .env("DATABASE_URL", url)
        .args(["--lock-strategy", strategy])
        .args(args);
    cmd
}

/// Runs `cmd` off the async runtime, whose threads serve the proxy meanwhile.
async fn run_timed(mut cmd: Command) -> Result<f64, String> {
    tokio::task::spawn_blocking(move || timed(&mut cmd))
        .await
        .map_err(|e| format!("a timed run did not finish: {e}"))?
}

/// The server's address and `url` pointed at `port` on loopback instead.
fn through(url: &str, port: u16) -> Result<(SocketAddr, String), String> {
    let mut parsed = Url::parse(url).map_err(|e| format!("bad MariaDB URL: {e}"))?;
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_owned();
    let upstream = (host.as_str(), parsed.port().unwrap_or(3306))
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} has no address"))?;
    parsed
        .set_host(Some("127.0.0.1"))
        .map_err(|e| format!("cannot point the URL at the proxy: {e}"))?;
    parsed
        .set_port(Some(port))
        .map_err(|()| "cannot point the URL at the proxy".to_owned())?;
    Ok((upstream, parsed.to_string()))
}

/// Runs the suite and returns its BENCHMARKS.md section.
pub(crate) async fn run(s: &Settings) -> Result<String, String> {
    let work = tempfile::tempdir().map_err(|e| format!("cannot make a directory: {e}"))?;
    let maria = MariaDb::mariadb(&s.mariadb_url).await?;
    let version = maria.version().await;
    let name = format!("bench_locks_{}", std::process::id());
    let url = maria.create(&name).await?;
    let measured = measure(s, work.path(), &url).await;
    maria.drop(&name).await?;
    let figures = measured?;
    Ok(section(&version, &figures))
}

async fn measure(s: &Settings, work: &Path, url: &str) -> Result<Vec<Vec<Figure>>, String> {
    run_timed(migrate(s, work, url, "session", &["up"])).await?;
    // The server's address for the proxy, then the URL through the proxy.
    let (upstream, _) = through(url, 0)?;
    let proxy = Proxy::start(upstream).await?;
    let (_, proxied) = through(url, proxy.port())?;
    let runs = s.runs * 10;
    let mut out = Vec::new();
    for case in &CASES {
        let mut counts = Vec::new();
        for strategy in STRATEGIES {
            // Once untimed and uncounted first: the first table lock creates its table.
            run_timed(migrate(s, work, url, strategy, case.args)).await?;
            let mut seen = Vec::new();
            for _ in 0..COUNTED {
                proxy.take();
                run_timed(migrate(s, work, &proxied, strategy, case.args)).await?;
                // The last packets may still be in the proxy when the process has exited.
                tokio::time::sleep(Duration::from_millis(100)).await;
                seen.push(proxy.take());
            }
            counts.push(Counted::of(&seen));
        }
        let mut samples = vec![Vec::new(); STRATEGIES.len()];
        for run in 0..runs {
            for k in 0..STRATEGIES.len() {
                let i = (run + k) % STRATEGIES.len();
                samples[i].push(run_timed(migrate(s, work, url, STRATEGIES[i], case.args)).await?);
            }
        }
        let figures: Vec<Figure> = samples
            .iter()
            .zip(counts)
            .map(|(samples, counts)| Figure {
                wall: median(samples),
                counts,
                runs: samples.len(),
            })
            .collect();
        for (strategy, f) in STRATEGIES.iter().zip(&figures) {
            eprintln!(
                "locks: {} under {strategy}: {} commands, {} connection(s), median {:.1} ms",
                case.title,
                shown(f.counts.commands),
                shown(f.counts.connections),
                f.wall * 1000.0
            );
        }
        out.push(figures);
    }
    Ok(out)
}

fn section(version: &str, figures: &[Vec<Figure>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## The migration lock: session against table\n");
    let _ = writeln!(
        out,
        "`migrate` with the reference schema applied, on {version} (one server, no cluster), \
         under `--lock-strategy session` (`GET_LOCK` on a connection of its own) and \
         `--lock-strategy table` (a row in `schema_migrations_lock` with a lease, renewed from \
         a connection of its own). Whole processes, wall time, medians of paired runs, the \
         strategies taking turns. Round trips are counted by a proxy between `migrate` and the \
         server: the commands `migrate` sent (each waits for its answer) and the connections \
         it opened (each a handshake of a few round trips more).\n"
    );
    let _ = writeln!(
        out,
        "| command | strategy | wall | commands | connections | runs |\n|---|---|---:|---:|---:|---:|"
    );
    for (case, per_strategy) in CASES.iter().zip(figures) {
        for (strategy, f) in STRATEGIES.iter().zip(per_strategy) {
            let _ = writeln!(
                out,
                "| {} | `{strategy}` | {:.1} ms | {} | {} | {} |",
                case.title,
                f.wall * 1000.0,
                shown(f.counts.commands),
                shown(f.counts.connections),
                f.runs
            );
        }
    }
    let _ = writeln!(
        out,
        "\nCounts are the median of {COUNTED} counted runs after one that is not counted (the \
         first table lock creates its table); the range is beside it where they differed."
    );
    let _ = writeln!(out, "\n### Targets\n");
    let total = |c: &Counted| c.commands.2 + c.connections.2;
    if let Some([session, table]) = figures.first().map(Vec::as_slice) {
        let more = i128::from(total(&table.counts)) - i128::from(total(&session.counts));
        let met = if more <= 1 { "met" } else { "**not met**" };
        let _ = writeln!(
            out,
            "- no-op `up`: at most {more:+} command(s) and connection(s) under `table` against \
             `session` (target ≤ +1): {met}. A no-op `up` reads the ledger once and takes no \
             lock under either strategy."
        );
    }
    if let Some([session, table]) = figures.get(1).map(Vec::as_slice) {
        let _ = writeln!(
            out,
            "- taking the lock and giving it back (`adopt`): {} command(s) and {} connection(s) \
             under `table` against {} and {} under `session` ({:+.1} ms). The row is inserted \
             and deleted where `GET_LOCK` and `RELEASE_LOCK` run; the lease is renewed from a \
             connection of its own, opened only by a run longer than a third of the lease.",
            shown(table.counts.commands),
            shown(table.counts.connections),
            shown(session.counts.commands),
            shown(session.counts.connections),
            (table.wall - session.wall) * 1000.0
        );
    }
    out.push('\n');
    out.push_str(&machine::footer(
        "`bench/run.sh locks` (`BENCH_MARIADB_URL` names the server)",
    ));
    out
}
