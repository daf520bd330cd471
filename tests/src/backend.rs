//! The backends the suite runs on and the environment that selects them: `TEST_POSTGRES_URL`,
//! `TEST_MARIADB_URL` and `REQUIRE_ALL_BACKENDS`; and keeping passwords out of what the harness
//! prints.

use std::io::Write;
use std::time::Duration;

use migration_engine::backend::target::{Target, redact_url};
use sea_orm::DbBackend;

/// The variable that makes a missing server URL a failure instead of a skip.
pub const REQUIRE_ALL_BACKENDS: &str = "REQUIRE_ALL_BACKENDS";

/// How long to wait for a test server before failing.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A database backend the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite, in a temporary file.
    Sqlite,
    /// PostgreSQL, from `TEST_POSTGRES_URL`.
    Postgres,
    /// MariaDB (or MySQL), from `TEST_MARIADB_URL`.
    MariaDb,
}

impl Backend {
    /// Every backend, in the order the matrix runs them.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MariaDb];

    /// The short lowercase name used in test names and messages: `sqlite`, `postgres`, `mariadb`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MariaDb => "mariadb",
        }
    }

    /// The environment variable holding the admin URL of the test server, if the backend needs one.
    pub fn env_var(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("TEST_POSTGRES_URL"),
            Backend::MariaDb => Some("TEST_MARIADB_URL"),
        }
    }

    /// The admin URL from the environment; `None` for SQLite or when the variable is unset or empty.
    pub fn admin_url(self) -> Option<String> {
        let var = self.env_var()?;
        std::env::var(var).ok().filter(|url| !url.trim().is_empty())
    }

    /// The matching SeaORM backend.
    pub fn db_backend(self) -> DbBackend {
        match self {
            Backend::Sqlite => DbBackend::Sqlite,
            Backend::Postgres => DbBackend::Postgres,
            Backend::MariaDb => DbBackend::MySql,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Prints a line on stderr that shows even for passing tests.
///
/// The test harness captures `eprintln!` and hides it when a test passes; skips and leftover
/// databases must be visible in every run, so this writes to the stderr handle directly.
pub(crate) fn notice(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Replaces the password in `url`, if any, with `***` (the engine's [`redact_url`]).
pub fn redact(url: &str) -> String {
    redact_url(url)
}

/// Removes the password of `url` from `message`, in case a driver echoes it back (the engine's
/// [`Target::scrub`]; [`redact_url`] when `url` is not a valid target).
pub(crate) fn scrub(message: &str, url: &str) -> String {
    match Target::new(url, None, None, None) {
        Ok(target) => target.scrub(message),
        Err(_) => redact_url(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_and_keeps_the_rest() {
        assert_eq!(
            redact("postgres://app:s3cret@db.example:5432/app?sslmode=disable"),
            "postgres://app:***@db.example:5432/app?sslmode=disable"
        );
    }

    #[test]
    fn redact_leaves_urls_without_a_password_alone() {
        let url = "mysql://root@127.0.0.1:3306/test";
        assert_eq!(redact(url), url);
    }

    #[test]
    fn scrub_removes_the_password_in_both_encodings() {
        let url = "postgres://app:p%40ss@localhost/app";
        assert_eq!(scrub("bad login p%40ss / p@ss", url), "bad login *** / ***");
    }
}
