//! Whether a destructive operation may run against a target: the one place that says no.
//!
//! These refuse, and `--force` overrides them all:
//! - `APP_ENV=production` (the variable defaults to `development`);
//! - a database whose ledger says it was first migrated in production, or in another
//!   environment than the current one (a staging URL pasted into a development shell);
//! - a URL matching one of the comma-separated globs in `MIGRATION_PROTECTED_URLS`, e.g.
//!   `*prod*,*.internal:5432/*`. Patterns are matched against the whole URL with its password
//!   removed, ignoring ASCII case; `*` matches any run of characters, everything else itself.
//!
//! Separately, the command line asks before a destructive run on a terminal and requires `--yes`
//! without one, so a script never destroys data by accident either.

use url::Url;

use crate::backend::target::{Target, redact_url, redact_whole_url};
use crate::error::{EngineError, Result};

/// The variable naming the deployment environment; `production` turns the guard on.
pub const APP_ENV_VAR: &str = "APP_ENV";

/// The variable holding the protected URL patterns.
pub const PROTECTED_URLS_VAR: &str = "MIGRATION_PROTECTED_URLS";

/// The current environment: `APP_ENV`, or `development` when unset or empty.
pub fn current_environment() -> String {
    std::env::var(APP_ENV_VAR)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "development".to_owned())
}

/// Decides whether a destructive operation may run against one target.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The redacted URL, for messages.
    target: String,
    /// The URL without its password, for matching.
    matchable: String,
    app_env: String,
    protected: Vec<String>,
    /// The environment the database was first migrated in, when known.
    stored: Option<String>,
    force: bool,
}

impl Guard {
    /// A guard configured from `APP_ENV` and `MIGRATION_PROTECTED_URLS`.
    pub fn from_env(target: &Target, force: bool) -> Self {
        Self::from_env_for_url(target.url(), force)
    }

    /// A guard for `url` configured from `APP_ENV` and `MIGRATION_PROTECTED_URLS`: for a
    /// session opened beside an application's connection, which knows its URL only from the
    /// connection's settings.
    pub fn from_env_for_url(url: &str, force: bool) -> Self {
        let app_env = std::env::var(APP_ENV_VAR).unwrap_or_default();
        let patterns = std::env::var(PROTECTED_URLS_VAR).unwrap_or_default();
        Self::new(url, &app_env, &patterns, force)
    }

    /// A guard for `url` with the environment name and the comma-separated patterns given
    /// explicitly. An empty environment name means `development`.
    pub fn new(url: &str, app_env: &str, patterns: &str, force: bool) -> Self {
        let app_env = app_env.trim();
        Self {
            target: redact_whole_url(url),
            matchable: without_password(url),
            app_env: if app_env.is_empty() {
                "development".to_owned()
            } else {
                app_env.to_owned()
            },
            protected: patterns
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            stored: None,
            force,
        }
    }

    /// Adds the environment the database was first migrated in (from its ledger): a database
    /// of production, or of another environment than this one, is refused too.
    pub fn with_stored_environment(mut self, stored: Option<String>) -> Self {
        self.stored = stored;
        self
    }

    /// Refuses `action` (a phrase such as "drop every table") unless it may run.
    ///
    /// # Errors
    /// [`EngineError::Guarded`] naming the reason and the fix, when the environment (current
    /// or stored) is production, the stored one differs from the current one, or the URL is
    /// protected, and `--force` was not given.
    pub fn check(&self, action: &str) -> Result<()> {
        if self.force {
            return Ok(());
        }
        match self.reason() {
            None => Ok(()),
            Some(reason) => Err(EngineError::Guarded {
                action: action.to_owned(),
                target: self.target.clone(),
                reason,
            }),
        }
    }

    /// Whether the guard protects this database, `--force` or not: what `MIGRATION_BACKUP=auto`
    /// backs up.
    pub fn protects(&self) -> bool {
        self.reason().is_some()
    }

    /// Why the guard protects this database, if it does.
    fn reason(&self) -> Option<String> {
        let stored = self.stored.as_deref();
        if self.app_env.eq_ignore_ascii_case("production") {
            Some(format!("{APP_ENV_VAR} is `{}`", self.app_env))
        } else if let Some(stored) = stored.filter(|s| s.eq_ignore_ascii_case("production")) {
            Some(format!(
                "the database was first migrated with {APP_ENV_VAR}=`{stored}`"
            ))
        } else if let Some(stored) = stored.filter(|s| !s.eq_ignore_ascii_case(&self.app_env)) {
            Some(format!(
                "the database was first migrated with {APP_ENV_VAR}=`{stored}` but {APP_ENV_VAR} is `{}`; set {APP_ENV_VAR}=`{stored}` if this is that database",
                self.app_env
            ))
        } else {
            self.protected
                .iter()
                .find(|pattern| glob_match(pattern, &self.matchable))
                .map(|pattern| {
                    format!(
                        "the URL matches the protected pattern `{}` in {PROTECTED_URLS_VAR}",
                        redact_url(pattern)
                    )
                })
        }
    }
}

/// The URL with its password removed (not masked: a pattern should not need to spell `***`).
fn without_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(None);
            redact_whole_url(parsed.as_str())
        }
        _ => redact_whole_url(url),
    }
}

/// Whole-string glob match where `*` matches any run of characters, ignoring ASCII case.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and how much of the text it has swallowed so far.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star_pi, star_ti)) = star {
            pi = star_pi + 1;
            ti = star_ti + 1;
            star = Some((star_pi, star_ti + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const URL: &str = "postgres://app:s3cret@db.prod.internal:5432/shop";

    #[test]
    fn development_with_no_patterns_allows_everything() {
        assert!(Guard::new(URL, "", "", false).check("seed").is_ok());
        assert!(
            Guard::new(URL, "development", "", false)
                .check("seed")
                .is_ok()
        );
    }

    #[test]
    fn production_refuses_and_names_the_fix() {
        let err = Guard::new(URL, "Production", "", false)
            .check("seed the database")
            .unwrap_err()
            .to_string();
        assert!(err.contains("seed the database"), "{err}");
        assert!(err.contains("APP_ENV"), "{err}");
        assert!(err.contains("--force"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn a_matching_pattern_refuses_and_force_overrides_both() {
        let guard = Guard::new(URL, "staging", "*localhost*, *.internal:5432/*", false);
        let err = guard.check("truncate").unwrap_err().to_string();
        assert!(err.contains("*.internal:5432/*"), "{err}");
        assert!(
            Guard::new(URL, "production", "*prod*", true)
                .check("truncate")
                .is_ok()
        );
    }

    #[test]
    fn a_database_first_migrated_in_production_is_refused_from_anywhere() {
        let stored = Some("production".to_owned());
        let err = Guard::new(URL, "development", "", false)
            .with_stored_environment(stored.clone())
            .check("revert migrations")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("first migrated with APP_ENV=`production`"),
            "{err}"
        );
        assert!(
            Guard::new(URL, "development", "", true)
                .with_stored_environment(stored)
                .check("revert migrations")
                .is_ok()
        );
    }

    #[test]
    fn another_environments_database_is_refused_and_its_own_is_not() {
        let stored = Some("staging".to_owned());
        let err = Guard::new(URL, "development", "", false)
            .with_stored_environment(stored.clone())
            .check("revert migrations")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`staging` but APP_ENV is `development`"),
            "{err}"
        );
        assert!(
            Guard::new(URL, "staging", "", false)
                .with_stored_environment(stored)
                .check("revert migrations")
                .is_ok()
        );
        assert!(
            Guard::new(URL, "development", "", false)
                .with_stored_environment(None)
                .check("revert migrations")
                .is_ok()
        );
    }

    #[test]
    fn patterns_see_the_url_without_its_password() {
        assert!(
            Guard::new(URL, "", "postgres://app@db.prod.internal:5432/shop", false)
                .check("x")
                .is_err()
        );
        assert!(Guard::new(URL, "", "*s3cret*", false).check("x").is_ok());
    }

    #[test]
    fn globs_match_whole_strings_with_stars_anywhere() {
        assert!(glob_match("*prod*", "postgres://u@PROD-db/x"));
        assert!(glob_match("sqlite://*", "sqlite://dev.db?mode=rwc"));
        assert!(!glob_match("sqlite://*", "postgres://sqlite://"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(!glob_match("db", "db2"));
    }
}
