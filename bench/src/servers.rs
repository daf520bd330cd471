//! Databases of the benchmark's own, created on an admin URL and dropped after each run.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use url::Url;

/// Which server a [`Server`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Postgres,
    MariaDb,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Postgres => "PostgreSQL",
            Kind::MariaDb => "MariaDB",
        }
    }
}

/// A database server where the benchmark may create databases.
pub(crate) struct Server {
    admin: DatabaseConnection,
    admin_url: Url,
    kind: Kind,
}

/// A PostgreSQL [`Server`].
pub(crate) type Postgres = Server;
/// A MariaDB/MySQL [`Server`].
pub(crate) type MariaDb = Server;

impl Server {
    /// Connects to a PostgreSQL admin URL.
    pub async fn postgres(admin_url: &str) -> Result<Self, String> {
        Self::connect(admin_url, Kind::Postgres).await
    }

    /// Connects to a MariaDB/MySQL admin URL.
    pub async fn mariadb(admin_url: &str) -> Result<Self, String> {
        Self::connect(admin_url, Kind::MariaDb).await
    }

    async fn connect(admin_url: &str, kind: Kind) -> Result<Self, String> {
        let name = kind.name();
        let parsed = Url::parse(admin_url).map_err(|e| format!("bad {name} URL: {e}"))?;
        let admin = Database::connect(admin_url).await.map_err(|e| {
            let var = match kind {
                Kind::Postgres => "BENCH_POSTGRES_URL",
                Kind::MariaDb => "BENCH_MARIADB_URL",
            };
            format!(
                "cannot connect to {name} at {}: {e}; set {var}",
                redacted(&parsed)
            )
        })?;
        Ok(Self {
            admin,
            admin_url: parsed,
            kind,
        })
    }

    fn quoted(&self, name: &str) -> String {
        match self.kind {
            Kind::Postgres => format!("\"{name}\""),
            Kind::MariaDb => format!("`{name}`"),
        }
    }

    /// Creates database `name` (dropping a leftover of that name first); returns its URL.
    pub async fn create(&self, name: &str) -> Result<String, String> {
        self.drop(name).await?;
        self.admin
            .execute_unprepared(&format!("CREATE DATABASE {}", self.quoted(name)))
            .await
            .map_err(|e| format!("cannot create database {name}: {e}"))?;
        let mut url = self.admin_url.clone();
        url.set_path(&format!("/{name}"));
        Ok(url.to_string())
    }

    /// Creates database `name` as a copy of database `template` (PostgreSQL); returns its URL.
    pub async fn create_from(&self, name: &str, template: &str) -> Result<String, String> {
        self.drop(name).await?;
        self.admin
            .execute_unprepared(&format!(
                "CREATE DATABASE {} TEMPLATE {}",
                self.quoted(name),
                self.quoted(template)
            ))
            .await
            .map_err(|e| format!("cannot create database {name} from {template}: {e}"))?;
        let mut url = self.admin_url.clone();
        url.set_path(&format!("/{name}"));
        Ok(url.to_string())
    }

    /// Drops database `name`, disconnecting whoever still uses it (PostgreSQL).
    pub async fn drop(&self, name: &str) -> Result<(), String> {
        let force = if self.kind == Kind::Postgres {
            " WITH (FORCE)"
        } else {
            ""
        };
        self.admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {}{force}",
                self.quoted(name)
            ))
            .await
            .map(drop)
            .map_err(|e| format!("cannot drop database {name}: {e}"))
    }

    /// The server's name and version.
    pub async fn version(&self) -> String {
        let (backend, sql) = match self.kind {
            Kind::Postgres => (sea_orm::DbBackend::Postgres, "SHOW server_version"),
            Kind::MariaDb => (sea_orm::DbBackend::MySql, "SELECT VERSION()"),
        };
        let name = self.kind.name();
        let row = self
            .admin
            .query_one_raw(sea_orm::Statement::from_string(backend, sql))
            .await;
        match row
            .ok()
            .flatten()
            .and_then(|r| r.try_get_by_index::<String>(0).ok())
        {
            // MariaDB appends its distribution: `10.11.19-MariaDB-0+deb12u1`.
            Some(v) => format!("{name} {}", v.split("-MariaDB").next().unwrap_or(&v)),
            None => name.to_owned(),
        }
    }
}

/// The real PostgreSQL client binary `tool` (`psql`, `pg_dump`, `pg_restore`): the one in the
/// newest packaged major version's directory (`/usr/lib/postgresql/<major>/bin` on Debian,
/// `/usr/pgsql-<major>/bin` on RHEL), else in `pg_config --bindir`, else the name for the PATH
/// to resolve. Debian's `psql` on the PATH is `pg_wrapper`, a Perl script that picks a cluster
/// and then starts the real client: tens of milliseconds a call that are nobody's work, and no
/// floor (see [`wrapper_cost`]).
pub(crate) fn pg_client(tool: &str) -> std::path::PathBuf {
    use std::path::PathBuf;
    static DIRS: std::sync::OnceLock<Vec<PathBuf>> = std::sync::OnceLock::new();
    let dirs = DIRS.get_or_init(|| {
        let mut found: Vec<(u32, PathBuf)> = Vec::new();
        for (parent, bin) in [("/usr/lib/postgresql", "bin"), ("/usr", "bin")] {
            let Ok(entries) = std::fs::read_dir(parent) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Ok(major) = name.strip_prefix("pgsql-").unwrap_or(&name).parse::<u32>() {
                    found.push((major, entry.path().join(bin)));
                }
            }
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        let mut dirs: Vec<PathBuf> = found.into_iter().map(|(_, dir)| dir).collect();
        if let Some(bindir) = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|o| o.status.success())
        {
            dirs.push(PathBuf::from(
                String::from_utf8_lossy(&bindir.stdout).trim(),
            ));
        }
        dirs
    });
    dirs.iter()
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from(tool))
}

/// What Debian's `psql` wrapper on the PATH adds to one `psql -c 'select 1'` against the real
/// client, in seconds (medians of `runs` paired calls), or `None` where the PATH's `psql` is the
/// real one or there is none. Measured once, so the figures that use the real client can say
/// what a harness starting `psql` from the PATH would have added.
pub(crate) fn wrapper_cost(url: &str, runs: usize) -> Option<(f64, f64)> {
    let on_path = which("psql")?;
    let real = pg_client("psql");
    if std::fs::canonicalize(&on_path).ok()? == std::fs::canonicalize(&real).ok()? {
        return None;
    }
    let env = psql_env(url).ok()?;
    let call = |bin: &std::path::Path| {
        let mut cmd = crate::process::command(bin);
        cmd.envs(env.clone()).args(["-X", "-q", "-c", "select 1"]);
        crate::process::timed(&mut cmd).ok()
    };
    let (mut wrapped, mut direct) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        wrapped.push(call(&on_path)?);
        direct.push(call(&real)?);
    }
    Some((
        crate::process::median(&wrapped),
        crate::process::median(&direct),
    ))
}

/// The first `name` on the PATH.
fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The variables `psql` reads to connect to `url`, so no URL or password goes on its command
/// line.
pub(crate) fn psql_env(url: &str) -> Result<Vec<(&'static str, String)>, String> {
    let url = Url::parse(url).map_err(|e| format!("bad PostgreSQL URL: {e}"))?;
    let mut env = vec![
        ("PGHOST", url.host_str().unwrap_or("127.0.0.1").to_owned()),
        ("PGPORT", url.port().unwrap_or(5432).to_string()),
        ("PGDATABASE", url.path().trim_start_matches('/').to_owned()),
    ];
    if !url.username().is_empty() {
        env.push(("PGUSER", url.username().to_owned()));
    }
    if let Some(password) = url.password() {
        env.push(("PGPASSWORD", password.to_owned()));
    }
    // `migrate` talks to a loopback server without TLS unless the URL asks for it; the floor
    // does the same, so the comparison is of the work, not of the transport.
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if loopback && !url.query_pairs().any(|(k, _)| k == "sslmode") {
        env.push(("PGSSLMODE", "disable".to_owned()));
    }
    Ok(env)
}

fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
}

/// Command-line arguments, and environment variables, for a client.
pub(crate) type ClientArgs = (Vec<String>, Vec<(&'static str, String)>);

/// The arguments and variables the `mariadb` client needs to connect to `url`; the password
/// goes in `MYSQL_PWD`, never on the command line.
pub(crate) fn mariadb_args(url: &str) -> Result<ClientArgs, String> {
    let url = Url::parse(url).map_err(|e| format!("bad MariaDB URL: {e}"))?;
    let mut args = vec![
        "--protocol=TCP".to_owned(),
        format!("--host={}", url.host_str().unwrap_or("127.0.0.1")),
        format!("--port={}", url.port().unwrap_or(3306)),
        // As `migrate` on loopback: no TLS (the 10.x client's default, said out loud).
        "--skip-ssl".to_owned(),
    ];
    if !url.username().is_empty() {
        args.push(format!("--user={}", url.username()));
    }
    args.push(url.path().trim_start_matches('/').to_owned());
    let env = url
        .password()
        .map(|p| vec![("MYSQL_PWD", p.to_owned())])
        .unwrap_or_default();
    Ok((args, env))
}
