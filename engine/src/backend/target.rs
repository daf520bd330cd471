//! Where migrations go: the database URL, the schema, and the ledger's name. Parsed and checked
//! before any connection is attempted, so a typo never reaches a driver that might echo the
//! password back.

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr};
use std::time::Duration;
use url::Url;

use crate::error::{EngineError, Result};

/// The URL used when nothing is configured: a SQLite file in the working directory, created on
/// first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://dev.db?mode=rwc";

/// The ledger table's default name; companion tables take it as their prefix.
pub const DEFAULT_MIGRATION_TABLE: &str = "schema_migrations";

/// How long a connection may take before a plain TCP connection checks that the server listens.
const PROBE_AFTER: Duration = Duration::from_millis(150);

/// Why connecting failed: the driver's error, or nothing listening on the port.
enum Refused {
    Db(DbErr),
    Unreachable(EngineError),
}

/// The server answered and turned the connection down (authentication, `pg_hba.conf`, a user
/// that requires TLS): the case where a second attempt with TLS may succeed.
fn is_server_refusal(e: &Refused) -> bool {
    matches!(
        e,
        Refused::Db(DbErr::Conn(RuntimeErr::SqlxError(err))) if matches!(err.as_ref(), sea_orm::sqlx::Error::Database(_))
    )
}

/// A validated database target.
#[derive(Clone)]
pub struct Target {
    url: String,
    backend: DbBackend,
    /// PostgreSQL search path for the migrations (`-s` / `DATABASE_SCHEMA`).
    pub database_schema: Option<String>,
    /// Schema of the ledger tables on PostgreSQL (`--migration-schema`).
    pub migration_schema: Option<String>,
    /// Name of the ledger table (`--migration-table`).
    pub migration_table: String,
}

/// A server URL's parts, percent-decoded: what a client tool (`pg_dump`, `mariadb-dump`) is given
/// in place of the URL. It holds the password, so it has no `Debug`.
pub(crate) struct ServerParts {
    /// The host as the URL parser gives it (an IPv6 address in brackets), if the URL names one.
    pub host: Option<String>,
    /// The port, if the URL names one.
    pub port: Option<u16>,
    /// The user, if the URL names one.
    pub user: Option<String>,
    /// The password, if the URL has one.
    pub password: Option<String>,
    /// The database: the URL's path without its leading `/`.
    pub database: String,
    /// The query's parameters, in order.
    pub parameters: Vec<(String, String)>,
}

impl ServerParts {
    /// The value of the query parameter `key`, if the URL sets it.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.redacted())
            .field("database_schema", &self.database_schema)
            .field("migration_schema", &self.migration_schema)
            .field("migration_table", &self.migration_table)
            .finish()
    }
}

fn config_error(message: impl Into<String>) -> EngineError {
    EngineError::Config {
        message: message.into(),
    }
}

/// Checks an identifier that comes from configuration: letters, digits and `_`, not starting with
/// a digit, at most 63 bytes (PostgreSQL's limit). Values are also quoted when used, but refusing
/// odd names keeps them portable across the three backends.
pub fn validate_identifier(what: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !value.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(config_error(format!(
            "invalid {what} `{value}`: use letters, digits and `_` (not starting with a digit), at most 63 characters"
        )))
    }
}

impl Target {
    /// Validates a URL and the naming options.
    ///
    /// # Errors
    /// [`EngineError::Config`] for a malformed URL, an unknown scheme or an invalid identifier; the
    /// message never contains the password.
    pub fn new(
        url: &str,
        database_schema: Option<String>,
        migration_schema: Option<String>,
        migration_table: Option<String>,
    ) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(config_error(
                "DATABASE_URL is empty: set it, pass `-u URL`, or unset it to use the SQLite default",
            ));
        }
        // A URL that does not parse has no reliable parts: everything between `://` and its last
        // `@` may be the password (one with a space or a `/` is where parsing stops).
        let parsed = Url::parse(url).map_err(|e| {
            config_error(format!(
                "malformed database URL `{}` ({e}): expected e.g. postgres://user@host:5432/db, mysql://user@host:3306/db or sqlite://file.db?mode=rwc, with `user:password@` when the server needs a password (percent-encode spaces and `@ / : ? #` in it)",
                redact_unparsed(url)
            ))
        })?;
        let (backend, url) = match parsed.scheme() {
            "postgres" | "postgresql" => (DbBackend::Postgres, url.to_owned()),
            "mysql" => (DbBackend::MySql, url.to_owned()),
            "mariadb" => (
                DbBackend::MySql,
                format!("mysql{}", &url["mariadb".len()..]),
            ),
            "sqlite" => (DbBackend::Sqlite, url.to_owned()),
            other => {
                return Err(config_error(format!(
                    "unknown database scheme `{other}` in `{}`: use postgres://, mysql:// (or mariadb://) or sqlite://",
                    redact_whole_url(url)
                )));
            }
        };
        if backend != DbBackend::Sqlite {
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(config_error(format!(
                    "database URL `{}` has no host: expected e.g. {}://user@127.0.0.1/db",
                    redact_whole_url(&url),
                    parsed.scheme()
                )));
            }
            if parsed.path().trim_start_matches('/').is_empty() {
                return Err(config_error(format!(
                    "database URL `{}` names no database: append `/DBNAME`",
                    redact_whole_url(&url)
                )));
            }
        }
        if let Some(schema) = &database_schema {
            validate_identifier("database schema", schema)?;
        }
        if let Some(schema) = &migration_schema {
            validate_identifier("migration schema", schema)?;
        }
        let migration_table = migration_table.unwrap_or_else(|| DEFAULT_MIGRATION_TABLE.to_owned());
        validate_identifier("migration table", &migration_table)?;
        Ok(Self {
            url,
            backend,
            database_schema,
            migration_schema,
            migration_table,
        })
    }

    /// The backend this URL speaks to.
    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// The URL with its password replaced by `***`: the only form that is ever printed.
    pub fn redacted(&self) -> String {
        redact_whole_url(&self.url)
    }

    /// Removes this target's password from any text (driver errors sometimes quote it): the URL
    /// itself, then the password and every `password=` value as written, percent-decoded and as
    /// the URL parser spells them, then anything [`redact_url`] finds. Passwords are replaced
    /// exactly, so the text around them stays as it was.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.replace(&self.url, &self.redacted());
        let mut secrets: Vec<String> = Vec::new();
        for span in secret_spans(&self.url, false) {
            let raw = &self.url[span];
            secrets.push(raw.to_owned());
            if let Ok(decoded) = urldecode(raw) {
                secrets.push(decoded.replace('+', " "));
                secrets.push(decoded);
            }
        }
        if let Ok(parsed) = Url::parse(&self.url) {
            secrets.extend(parsed.password().map(str::to_owned));
            secrets.extend(
                parsed
                    .query_pairs()
                    .filter(|(key, _)| key.to_ascii_lowercase().contains("password"))
                    .map(|(_, value)| value.into_owned()),
            );
        }
        // Longest first, so that no secret is left half replaced by a shorter one inside it.
        secrets.retain(|secret| secret.len() >= 2 && secret != "***");
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        for secret in &secrets {
            out = out.replace(secret.as_str(), "***");
        }
        redact_url(&out)
    }

    /// This target with its URL naming database `name` on the same server, with the same
    /// credentials and settings: a scratch database, a maintenance database.
    ///
    /// # Errors
    /// [`EngineError::Config`] for a URL that cannot name another database (SQLite, malformed).
    pub fn on_database(&self, name: &str) -> Result<Target> {
        let mut url = Url::parse(&self.url)
            .ok()
            .filter(|_| self.backend != DbBackend::Sqlite)
            .ok_or_else(|| {
                config_error(format!(
                    "`{}` names no database on a server to move to `{name}`",
                    self.redacted()
                ))
            })?;
        url.set_path(&format!("/{name}"));
        Target::new(
            url.as_str(),
            self.database_schema.clone(),
            self.migration_schema.clone(),
            Some(self.migration_table.clone()),
        )
    }

    /// The raw URL, for drivers only. Never print it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database this target names: the URL's path on a server, as written, and the file's
    /// path on SQLite.
    pub fn database_name(&self) -> String {
        match Url::parse(&self.url) {
            Ok(parsed) if self.backend != DbBackend::Sqlite => {
                parsed.path().trim_start_matches('/').to_owned()
            }
            _ => self
                .url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:")
                .split('?')
                .next()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// The URL's parts, decoded, for a client tool that takes them one by one.
    ///
    /// # Errors
    /// The URL parser's error, for a URL that does not parse (never one [`Target::new`] took).
    pub(crate) fn server_parts(&self) -> std::result::Result<ServerParts, url::ParseError> {
        let url = Url::parse(&self.url)?;
        Ok(ServerParts {
            host: url.host_str().map(str::to_owned),
            port: url.port(),
            user: Some(url.username())
                .filter(|user| !user.is_empty())
                .map(decode_part),
            password: url.password().map(decode_part),
            database: decode_part(url.path().trim_start_matches('/')),
            parameters: url.query_pairs().into_owned().collect(),
        })
    }

    /// Opens a single connection: migrations run one statement at a time, and one connection keeps
    /// session settings (search path, timeouts) in one place.
    ///
    /// On a loopback host whose URL sets no `sslmode` / `ssl-mode`, the connection is not
    /// encrypted (nothing leaves the machine, and a TLS handshake costs the driver tens of
    /// milliseconds); a server that insists on TLS gets a second attempt with the URL as given.
    ///
    /// # Errors
    /// [`EngineError::Connect`] with a reason and a fix for the common failures.
    pub async fn connect(&self, timeout: Duration) -> Result<DatabaseConnection> {
        let plaintext = self.loopback_without_tls_setting();
        let first = self
            .connect_with(self.options(timeout, plaintext), timeout)
            .await;
        let conn = match first {
            Err(e) if plaintext && is_server_refusal(&e) => {
                self.connect_with(self.options(timeout, false), timeout)
                    .await
            }
            other => other,
        };
        conn.map_err(|e| match e {
            Refused::Db(e) => self.connect_error(&e, timeout),
            Refused::Unreachable(e) => e,
        })
    }

    fn options(&self, timeout: Duration, plaintext: bool) -> ConnectOptions {
        let mut options = ConnectOptions::new(self.url.clone());
        options
            .max_connections(1)
            .min_connections(0)
            .connect_timeout(timeout)
            .acquire_timeout(timeout)
            // One connection, used by one task: checking it before every statement would only
            // add a round trip each time.
            .test_before_acquire(false)
            .sqlx_logging(false);
        if let (DbBackend::Postgres, Some(schema)) = (self.backend, &self.database_schema) {
            options.set_schema_search_path(schema.clone());
        }
        if plaintext {
            super::without_tls(self.backend, &mut options);
        }
        options
    }

    /// Connects; a port that refuses connections is reported at once rather than retried by
    /// the driver's pool until the timeout: if connecting takes longer than a healthy local
    /// server ever needs, a plain TCP connection tells whether anyone listens.
    async fn connect_with(
        &self,
        options: ConnectOptions,
        timeout: Duration,
    ) -> std::result::Result<DatabaseConnection, Refused> {
        let connecting = Database::connect(options);
        tokio::pin!(connecting);
        tokio::select! {
            conn = &mut connecting => return conn.map_err(Refused::Db),
            () = tokio::time::sleep(PROBE_AFTER) => {}
        }
        tokio::select! {
            conn = &mut connecting => conn.map_err(Refused::Db),
            probed = self.probe(timeout) => match probed {
                Ok(()) => connecting.await.map_err(Refused::Db),
                Err(e) => Err(Refused::Unreachable(e)),
            },
        }
    }

    /// A PostgreSQL or MySQL URL naming a loopback host, with no TLS setting of its own.
    fn loopback_without_tls_setting(&self) -> bool {
        let Ok(parsed) = Url::parse(&self.url) else {
            return false;
        };
        // Hosts of `postgres://` and `mysql://` URLs are opaque to the URL parser: read them here.
        let loopback = parsed.host_str().is_some_and(|host| {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        let tls_setting = parsed.query_pairs().any(|(k, _)| {
            matches!(
                k.to_ascii_lowercase().as_str(),
                "sslmode" | "ssl-mode" | "ssl_mode" | "sslrootcert" | "ssl-ca"
            )
        });
        self.backend != DbBackend::Sqlite && loopback && !tls_setting
    }

    /// Opens and closes a TCP connection first: a refused port fails at once with a clear
    /// reason, where the driver's pool would retry until the timeout.
    async fn probe(&self, timeout: Duration) -> Result<()> {
        let Ok(parsed) = Url::parse(&self.url) else {
            return Ok(());
        };
        let (Some(host), Some(port)) = (
            parsed.host_str(),
            parsed.port_or_known_default().or(match self.backend {
                DbBackend::Postgres => Some(5432),
                DbBackend::MySql => Some(3306),
                _ => None,
            }),
        ) else {
            return Ok(());
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let unreachable = |reason: String| EngineError::Connect {
            target: self.redacted(),
            reason,
        };
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port))).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(unreachable(format!(
                "{e}; is the server running and listening on {host}:{port}? check host and port in DATABASE_URL"
            ))),
            Err(_) => Err(unreachable(format!(
                "no answer from {host}:{port} within {}s; check host and port, or raise --connect-timeout",
                timeout.as_secs()
            ))),
        }
    }

    /// Explains a connection failure with its fix, without the password.
    pub fn connect_error(&self, err: &DbErr, timeout: Duration) -> EngineError {
        let reason = explain_connect_error(err, self.backend, timeout);
        EngineError::Connect {
            target: self.redacted(),
            reason: self.scrub(&reason),
        }
    }
}

fn explain_connect_error(err: &DbErr, backend: DbBackend, timeout: Duration) -> String {
    let sqlx_err = match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    };
    let Some(e) = sqlx_err else {
        return format!("{err}; check DATABASE_URL");
    };
    use sea_orm::sqlx::Error as SqlxError;
    match e {
        SqlxError::Io(io) => format!(
            "{io}; is the server running and listening there? check host and port in DATABASE_URL"
        ),
        SqlxError::PoolTimedOut => format!(
            "no answer within {}s; check host and port, or raise --connect-timeout",
            timeout.as_secs()
        ),
        SqlxError::Tls(t) => format!("TLS failed ({t}); check sslmode / ssl-mode in DATABASE_URL"),
        SqlxError::Configuration(c) => format!("invalid connection option ({c}); fix DATABASE_URL"),
        SqlxError::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let msg = db.message().to_owned();
            match (backend, code.as_str()) {
                (DbBackend::Postgres, "28P01" | "28000") | (DbBackend::MySql, "28000") => {
                    format!(
                        "authentication failed ({msg}); check the user and password in DATABASE_URL"
                    )
                }
                (DbBackend::Postgres, "3D000") | (DbBackend::MySql, "42000")
                    if msg.contains("database") =>
                {
                    format!("{msg}; create the database first or fix its name in DATABASE_URL")
                }
                (DbBackend::Sqlite, _) => {
                    format!("{msg}; check the file path, and add `?mode=rwc` to create the file")
                }
                _ => format!("{msg}; check DATABASE_URL"),
            }
        }
        other => {
            let text = other.to_string();
            if backend == DbBackend::MySql && text.contains("1045") {
                format!(
                    "authentication failed ({text}); check the user and password in DATABASE_URL"
                )
            } else {
                format!("{text}; check DATABASE_URL")
            }
        }
    }
}

/// A part of a URL percent-decoded as a form value is, except that `+` stays `+`.
fn decode_part(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn urldecode(s: &str) -> std::result::Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}

/// Where `scheme:` ends in `url` (after `://` when it has one), or 0 without a scheme.
fn after_scheme(url: &str) -> usize {
    if let Some(pos) = url.find("://") {
        return pos + 3;
    }
    match url.find(':') {
        Some(colon)
            if colon > 0
                && url[..colon]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            colon + 1
        }
        _ => 0,
    }
}

/// The byte ranges of the secrets in `url`, one whole URL with nothing around it, merged and in
/// order: the password of its userinfo and the value of every `password=` parameter (any key
/// ending so, such as `sslpassword`), up to the next `&` or `#`. When `opaque` (the URL did not
/// parse, so its parts cannot be trusted) or it has no `://`, everything between the scheme and
/// the last `@` counts as the password.
fn secret_spans(url: &str, opaque: bool) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let start = after_scheme(url);
    if opaque || !url.contains("://") {
        if let Some(at) = url[start..].rfind('@') {
            spans.push(start..start + at);
        }
    } else {
        // As the URL parser reads it: the authority ends at the first `/`, `?` or `#`, and its
        // userinfo at the last `@` in it; the password follows the userinfo's first `:`.
        let tail = &url[start..];
        let authority = &tail[..tail.find(['/', '?', '#']).unwrap_or(tail.len())];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
        {
            spans.push(start + colon + 1..start + at);
        }
    }
    let lower = url.to_ascii_lowercase();
    let key = "password=";
    let mut from = 0;
    while let Some(pos) = lower[from..].find(key) {
        let value = from + pos + key.len();
        let end = url[value..]
            .find(['&', '#'])
            .map_or(url.len(), |e| value + e);
        spans.push(value..end);
        from = end.max(value);
    }
    spans.retain(|span| !span.is_empty());
    spans.sort_by_key(|span| span.start);
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// `text` with each of `spans` (merged, in order) replaced by `***`.
fn mask(text: &str, spans: &[std::ops::Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        out.push_str("***");
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// One whole URL, with nothing around it, with its password and every `password=` value
/// replaced by `***`. Unlike [`redact_url`], which must guess where a URL in free text ends, it
/// reads the URL as the parser does, so a password with a space, a quote or a backtick in it is
/// hidden whole and nothing after it is lost. Without `://` it hides everything between the
/// scheme and the last `@`.
pub fn redact_whole_url(url: &str) -> String {
    mask(url, &secret_spans(url, false))
}

/// A URL that does not parse, with everything between `://` (or its scheme) and its last `@`
/// replaced by `***`, and every `password=` value too.
fn redact_unparsed(url: &str) -> String {
    mask(url, &secret_spans(url, true))
}

/// Characters that end a URL, or a `password=` value, in free text.
fn ends_in_text(c: char) -> bool {
    c.is_whitespace() || matches!(c, '`' | '\'' | '"')
}

/// How much of `token` (free text up to a space or a quote) is trailing punctuation of the
/// sentence around it rather than part of a URL or a value: `:`, `,`, `;`, `.`, `)` at its end.
fn trailing_punctuation(token: &str) -> usize {
    token.len() - token.trim_end_matches([':', ',', ';', '.', ')']).len()
}

/// Replaces the password in every URL found in `text` (userinfo and `password=` parameters) with
/// `***`. Works on free text, so it also cleans driver messages that quote a URL: a URL there
/// ends at a space, a quote or a backtick, and punctuation that ends the sentence after it (`:`,
/// `,`, `;`, `.`, `)`) is kept. Text that holds a known URL is better cleaned by
/// [`Target::scrub`], which knows the password exactly.
pub fn redact_url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        // The scheme, which may hold no secret, is copied as it is.
        let (head, tail) = rest.split_at(pos + 3);
        let token_end = tail.find(ends_in_text).unwrap_or(tail.len());
        let token = &tail[..token_end];
        let url_end = token.len() - trailing_punctuation(token);
        let scheme_start = head[..pos]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        out.push_str(&head[..scheme_start]);
        let url = format!("{}{}", &head[scheme_start..], &token[..url_end]);
        out.push_str(&redact_whole_url(&url));
        out.push_str(&token[url_end..]);
        rest = &tail[token_end..];
    }
    out.push_str(rest);
    redact_password_params(&out)
}

/// Replaces `password=` values outside URLs (and any a URL left) in free text: a value ends at
/// `&`, `#`, a space or a quote, without the sentence's trailing punctuation. A value already
/// `***` is left alone, so cleaning twice changes nothing.
fn redact_password_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let key = "password=";
    while let Some(pos) = rest.to_ascii_lowercase().find(key) {
        let value_start = pos + key.len();
        out.push_str(&rest[..value_start]);
        let tail = &rest[value_start..];
        if let Some(after) = tail.strip_prefix("***") {
            out.push_str("***");
            rest = after;
            continue;
        }
        let token_end = tail
            .find(|c: char| ends_in_text(c) || matches!(c, '&' | '#'))
            .unwrap_or(tail.len());
        let token = &tail[..token_end];
        let end = token.len() - trailing_punctuation(token);
        if end > 0 {
            out.push_str("***");
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_userinfo_and_parameters_are_redacted() {
        assert_eq!(
            redact_url("postgres://bob:s3cret@db:5432/app"),
            "postgres://bob:***@db:5432/app"
        );
        assert_eq!(
            redact_url("error at mysql://root:pw@h/db?password=x&ssl=1 here"),
            "error at mysql://root:***@h/db?password=***&ssl=1 here"
        );
        assert_eq!(
            redact_url("sqlite://dev.db?mode=rwc"),
            "sqlite://dev.db?mode=rwc"
        );
        assert_eq!(redact_url("postgres://bob@db/app"), "postgres://bob@db/app");
    }

    #[test]
    fn a_url_that_does_not_parse_is_hidden_from_its_scheme_to_its_last_at() {
        for (url, shown) in [
            ("postgres://u:S3cret PW@[bad/db", "postgres://***@[bad/db"),
            ("postgres://u:p@ss w@rd@[bad/db", "postgres://***@[bad/db"),
            (
                "mysql://u@[bad/db?password=S3cret PW&ssl-mode=disabled",
                "mysql://***@[bad/db?password=***&ssl-mode=disabled",
            ),
            // A `password=` value holding the last `@` is hidden whole.
            ("postgres://u@[h/db?password=a@b c", "postgres://***"),
            ("u:S3cret@host/db", "u:***@host/db"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact_unparsed(url), shown, "{url}");
        }
        for url in [
            "postgres://u:S3cret PW@[bad/db",
            "postgres://u:S3c`ret PW@[bad/db",
            "postgres://u:S3c'ret\"PW@[bad/db",
            "mysql://root:S3cret PW@db:99999/app",
        ] {
            let err = Target::new(url, None, None, None).unwrap_err().to_string();
            for part in ["S3c", "ret", "PW"] {
                assert!(!err.contains(part), "{err}");
            }
            assert!(err.starts_with("malformed database URL `"), "{err}");
            assert!(
                err.contains("expected e.g. postgres://user@host:5432/db"),
                "{err}"
            );
            // What `migrate` prints is the same.
            assert_eq!(redact_url(&err), err);
        }
    }

    #[test]
    fn a_whole_url_is_redacted_as_the_parser_reads_it() {
        for (url, shown) in [
            (
                "postgres://u:S3cret PW@127.0.0.1:1/db",
                "postgres://u:***@127.0.0.1:1/db",
            ),
            (
                "postgres://u:S3c%40ret@h/db?sslmode=disable",
                "postgres://u:***@h/db?sslmode=disable",
            ),
            (
                "postgres://u@h/db?password=S3cret PW&sslmode=disable#x",
                "postgres://u@h/db?password=***&sslmode=disable#x",
            ),
            (
                "postgres://u@h/db?PassWord=S3c\"ret'x",
                "postgres://u@h/db?PassWord=***",
            ),
            (
                "postgres://u@h/db?sslpassword=k3y&password=S3cret%26PW",
                "postgres://u@h/db?sslpassword=***&password=***",
            ),
            ("postgres://bob@db/app", "postgres://bob@db/app"),
            ("sqlite://dev.db?mode=rwc", "sqlite://dev.db?mode=rwc"),
        ] {
            assert_eq!(redact_whole_url(url), shown, "{url}");
        }
    }

    #[test]
    fn redaction_keeps_the_rest_of_the_message() {
        for (text, shown) in [
            (
                "cannot connect to postgres://u@h:1/x?password=S3cret: Connection refused",
                "cannot connect to postgres://u@h:1/x?password=***: Connection refused",
            ),
            (
                "cannot connect to postgres://u:S3cret@h:1/x: Connection refused",
                "cannot connect to postgres://u:***@h:1/x: Connection refused",
            ),
            (
                "failed (mysql://u@h/x?password=S3cret), retry.",
                "failed (mysql://u@h/x?password=***), retry.",
            ),
            (
                "the DSN sets password=S3cret; fix it",
                "the DSN sets password=***; fix it",
            ),
            (
                "the last word is password=S3cret",
                "the last word is password=***",
            ),
            (
                "already clean: postgres://u:***@h/x?password=***: Connection refused",
                "already clean: postgres://u:***@h/x?password=***: Connection refused",
            ),
            (
                "two: `mysql://a:S3cret@h/x` and 'postgres://b:S3cret@h/y'",
                "two: `mysql://a:***@h/x` and 'postgres://b:***@h/y'",
            ),
        ] {
            assert_eq!(redact_url(text), shown, "{text}");
            assert_eq!(redact_url(shown), shown, "{shown}");
        }
    }

    #[test]
    fn a_target_scrubs_every_spelling_of_its_password_and_nothing_else() {
        let t = Target::new(
            "postgres://u:S3cret PW@127.0.0.1:1/db?password=Qu0te\"d%26x&sslmode=disable",
            None,
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            t.redacted(),
            "postgres://u:***@127.0.0.1:1/db?password=***&sslmode=disable"
        );
        for text in [
            format!("cannot connect to {}: Connection refused", t.url()),
            "auth failed for S3cret PW (S3cret%20PW); check it".to_owned(),
            "param Qu0te\"d&x or Qu0te\"d%26x, then more".to_owned(),
        ] {
            let out = t.scrub(&text);
            for part in ["S3cret", "Qu0te"] {
                assert!(!out.contains(part), "{out}");
            }
            assert!(!out.contains("PW") && !out.contains("d&x"), "{out}");
        }
        assert_eq!(
            t.scrub(&format!(
                "cannot connect to {}: Connection refused",
                t.url()
            )),
            "cannot connect to postgres://u:***@127.0.0.1:1/db?password=***&sslmode=disable: Connection refused"
        );
        assert_eq!(
            t.scrub("auth failed for S3cret PW; check it"),
            "auth failed for ***; check it"
        );
    }

    #[test]
    fn a_target_scrubs_its_password_from_free_text() {
        let t = Target::new("postgres://bob:hunter22@db/app", None, None, None).unwrap();
        assert_eq!(t.scrub("auth failed for hunter22"), "auth failed for ***");
        assert!(!format!("{t:?}").contains("hunter22"));
    }

    #[test]
    fn unknown_schemes_and_malformed_urls_are_refused_without_the_password() {
        for url in [
            "oracle://u:topsecret@h/db",
            "postgres://u:topsecret@:99999/db",
            "not a url",
        ] {
            let err = Target::new(url, None, None, None).unwrap_err().to_string();
            assert!(!err.contains("topsecret"), "{err}");
        }
    }

    #[test]
    fn the_database_name_is_the_path_on_a_server_and_the_file_on_sqlite() {
        for (url, name) in [
            ("postgres://u:p@127.0.0.1:5432/app?sslmode=disable", "app"),
            ("mariadb://root@127.0.0.1/test", "test"),
            ("sqlite://data/dev.db?mode=rwc", "data/dev.db"),
            ("sqlite:dev.db", "dev.db"),
        ] {
            let t = Target::new(url, None, None, None).unwrap();
            assert_eq!(t.database_name(), name, "{url}");
        }
    }

    #[test]
    fn server_parts_are_percent_decoded_and_a_plus_stays_a_plus() {
        let t = Target::new(
            "postgres://b%40b:p%2Fw+x@[::1]:6432/my%20db?sslmode=require",
            None,
            None,
            None,
        )
        .unwrap();
        let parts = t.server_parts().unwrap();
        assert_eq!(parts.host.as_deref(), Some("[::1]"));
        assert_eq!(parts.port, Some(6432));
        assert_eq!(parts.user.as_deref(), Some("b@b"));
        assert_eq!(parts.password.as_deref(), Some("p/w+x"));
        assert_eq!(parts.database, "my db");
        assert_eq!(parts.parameter("sslmode"), Some("require"));
        let bare = Target::new("mysql://h/db", None, None, None).unwrap();
        let parts = bare.server_parts().unwrap();
        assert!(parts.user.is_none() && parts.password.is_none() && parts.port.is_none());
    }

    #[test]
    fn mariadb_urls_are_spoken_as_mysql() {
        let t = Target::new("mariadb://root@127.0.0.1/test", None, None, None).unwrap();
        assert_eq!(t.backend(), DbBackend::MySql);
        assert!(t.url().starts_with("mysql://"));
    }

    #[test]
    fn identifiers_that_could_inject_sql_are_refused() {
        for bad in ["a;drop", "1abc", "", "x\"y", "a b"] {
            assert!(
                validate_identifier("migration table", bad).is_err(),
                "{bad}"
            );
        }
        assert!(validate_identifier("migration table", "schema_migrations").is_ok());
    }
}
