//! A throwaway PostgreSQL cluster for one test: `initdb` into a temporary directory, started on
//! a free loopback port with the settings a test asks for (such as
//! `shared_preload_libraries=pg_cron`, which no shared test server can be given per test),
//! stopped and removed on drop.
//!
//! The server binaries come from `pg_config --bindir`. PostgreSQL refuses to run as root, so
//! when the tests do, the cluster is created and run as the `postgres` OS user (`runuser`) and
//! its directory is handed to that user. Authentication is `trust` on loopback only, as user
//! `postgres`; TLS is off.
//!
//! [`PgCluster::start`] returns `None`, after a line on stderr, when this machine has no server
//! binaries or lacks an extension the test needs, unless `REQUIRE_ALL_BACKENDS=1`, which makes
//! that a failure as it does for the test servers.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// A running cluster; dropping it stops the server and removes its files.
pub struct PgCluster {
    bindir: PathBuf,
    dir: TempDir,
    port: u16,
    /// `Some("postgres")` when the server runs as that OS user rather than as the caller.
    run_as: Option<&'static str>,
}

impl PgCluster {
    /// Creates and starts a cluster with `settings` (`name=value`, passed as `-c`), when the
    /// server binaries and the `extensions` (their control files) are installed.
    ///
    /// # Panics
    ///
    /// When something needed is missing and `REQUIRE_ALL_BACKENDS=1`, or when `initdb` or the
    /// server fails (the server's log is in the message).
    pub fn start(settings: &[&str], extensions: &[&str]) -> Option<PgCluster> {
        let Some(bindir) = pg_config("--bindir").map(PathBuf::from) else {
            return skip("pg_config is not on the PATH");
        };
        let sharedir = pg_config("--sharedir")
            .map(PathBuf::from)
            .unwrap_or_default();
        for extension in extensions {
            let control = sharedir
                .join("extension")
                .join(format!("{extension}.control"));
            if !control.exists() {
                return skip(&format!("{} is missing", control.display()));
            }
        }
        let run_as = running_as_root().then_some("postgres");

        let dir = tempfile::Builder::new()
            .prefix("iot-pg-cluster-")
            .tempdir()
            .expect("creating the cluster's directory");
        if let Some(user) = run_as {
            let (uid, gid) = ids_of(user);
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("handing the cluster's directory to the postgres user");
        }
        let port = free_port();
        let cluster = PgCluster {
            bindir,
            dir,
            port,
            run_as,
        };

        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                path(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let mut options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            path(cluster.dir.path())
        );
        for setting in settings {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        let log = cluster.dir.path().join("server.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                path(&data),
                "-l",
                path(&log),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        Some(cluster)
    }

    /// The URL of `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one of the server's programs (as the postgres user, when the tests run as root)
    /// and panics with its output and the server's log when it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let binary = self.bindir.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&binary);
                command
            }
            None => Command::new(&binary),
        };
        // pg_ctl's server inherits these: with pipes, `output()` would wait for the server.
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", binary.display()));
        if !output.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "{program} failed ({}):\n{}\nserver log:\n{log}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // The directory goes with `self.dir` once the server is down; a failure here is not
        // worth a panic while unwinding.
        let data = self.data_dir();
        let binary = self.bindir.join("pg_ctl");
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&binary);
                command
            }
            None => Command::new(&binary),
        };
        let stopped = command
            .args(["-D", path(&data), "-m", "fast", "-w", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !stopped.is_ok_and(|status| status.success()) {
            notice(&format!(
                "warning: could not stop the PostgreSQL cluster in {}",
                data.display()
            ));
        }
    }
}

/// `pg_config <flag>`, trimmed; `None` when pg_config cannot be run.
fn pg_config(flag: &str) -> Option<String> {
    let output = Command::new("pg_config").arg(flag).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// The numeric user and group ids of `user`.
fn ids_of(user: &str) -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let output = Command::new("id")
            .args([flag, user])
            .output()
            .unwrap_or_else(|err| panic!("cannot run id: {err}"));
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("there is no OS user {user} to run PostgreSQL as"))
    };
    (id("-u"), id("-g"))
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("finding a free port")
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// `None`, after saying why on stderr; a failure under `REQUIRE_ALL_BACKENDS=1`.
fn skip(why: &str) -> Option<PgCluster> {
    if std::env::var(tests::REQUIRE_ALL_BACKENDS).is_ok_and(|v| v.trim() == "1") {
        panic!("{why}, but {}=1", tests::REQUIRE_ALL_BACKENDS);
    }
    notice(&format!("skipped: a throwaway PostgreSQL cluster ({why})"));
    None
}

/// A line on stderr that shows even for passing tests (the harness hides captured output).
fn notice(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
