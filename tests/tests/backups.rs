//! Backups before destructive commands, `migrate backups` and `migrate restore`, on every
//! backend: a backup restores into a new database equal to the original; a backup that cannot be
//! taken stops the command with the database unchanged; `MIGRATION_BACKUP=auto` backs up where
//! the guard protects the database and not elsewhere; restore is guarded; no password reaches
//! any output, file or process list.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use tempfile::TempDir;
use tests::process::{command, run};
use tests::{Backend, Run, TestDb, backend_matrix, migrate_bin};

/// A working directory whose `backups/` receives the backups, and the database under test.
struct Scene {
    db: TestDb,
    dir: TempDir,
}

impl Scene {
    /// `db`, migrated and seeded with the `minimal` profile.
    async fn seeded(db: TestDb) -> Self {
        let scene = Scene {
            db,
            dir: TempDir::new().unwrap(),
        };
        scene
            .migrate(&["fresh", "--seed", "minimal", "--yes"])
            .code(0);
        scene
    }

    fn cmd(&self, url: &str) -> assert_cmd::Command {
        let mut cmd = command(migrate_bin(), self.dir.path());
        cmd.env("DATABASE_URL", url)
            .env_remove("MIGRATION_BACKUP")
            .env_remove("MIGRATION_BACKUP_DIR");
        cmd
    }

    fn migrate(&self, args: &[&str]) -> Run {
        run(self.cmd(&self.db.url), migrate_bin(), args)
    }

    fn migrate_with(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        let mut cmd = self.cmd(&self.db.url);
        for (key, value) in env {
            cmd.env(key, value);
        }
        run(cmd, migrate_bin(), args)
    }

    fn backups_dir(&self) -> PathBuf {
        self.dir.path().join("backups")
    }

    /// The backup files (manifests left out).
    fn files(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.backups_dir()) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_none_or(|x| x != "json"))
            .collect();
        files.sort();
        files
    }
}

/// `schema` JSON with the casts in its expressions removed. PostgreSQL prints a `CHECK (x IN
/// ('a', 'b'))` on a varchar column as `x::text = ANY (ARRAY['a'::character varying, ...]::text[])`
/// when it was created, and the same constraint read back from `pg_dump`'s SQL as `... ARRAY['a'::
/// character varying::text, ...]`: one expression, printed two ways.
fn without_casts(schema: &str) -> String {
    regex::Regex::new(r"::(character varying|text)(\[\])?")
        .unwrap()
        .replace_all(schema, "")
        .into_owned()
}

async fn a_backup_restores_into_a_new_database_equal_to_the_original(db: TestDb) {
    let scene = Scene::seeded(db).await;
    let before = scene.db.content().await;
    let schema = scene
        .migrate(&["schema", "--format", "json"])
        .code(0)
        .stdout;
    let down = scene.migrate(&["down", "--backup"]).code(0);
    assert!(down.stderr.contains("backed up"), "{down:?}");
    let files = scene.files();
    assert_eq!(files.len(), 1, "{files:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", files[0].display());
    }
    let listed = scene
        .migrate(&["backups", "--format", "json"])
        .code(0)
        .json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["command"], "migrate down");
    assert_eq!(listed[0]["version"], "20240813000011");
    assert!(listed[0]["bytes"].as_u64().unwrap() > 0);
    // The history of the original records the backup.
    let history = scene
        .migrate(&["history", "--format", "json"])
        .code(0)
        .json();
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "backup"
                && e["reason"]
                    .as_str()
                    .unwrap()
                    .contains(&*files[0].file_name().unwrap().to_string_lossy())),
        "{history}"
    );
    // Into a new database: the same schema and rows as before the `down`.
    let copy = TestDb::create(scene.db.backend).await.unwrap();
    let file = files[0].display().to_string();
    scene
        .migrate(&["restore", &file, "--into", &copy.url, "--yes"])
        .code(0);
    assert_eq!(
        copy.content().await,
        before,
        "the restored database differs"
    );
    let restored_schema = run(
        scene.cmd(&copy.url),
        migrate_bin(),
        &["schema", "--format", "json"],
    )
    .code(0)
    .stdout;
    assert_eq!(without_casts(&restored_schema), without_casts(&schema));
    let status = run(
        scene.cmd(&copy.url),
        migrate_bin(),
        &["status", "--format", "json"],
    )
    .code(0)
    .json();
    assert!(
        status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "applied"),
        "{status}"
    );
    let history = run(
        scene.cmd(&copy.url),
        migrate_bin(),
        &["history", "--format", "json"],
    )
    .code(0)
    .json();
    assert_eq!(history[0]["action"], "restore", "{history}");
    // Over the original: back to where the backup was taken.
    scene.migrate(&["restore", &file, "--yes"]).code(0);
    assert_eq!(scene.db.content().await, before);
}

async fn a_backup_that_cannot_be_taken_stops_the_command(db: TestDb) {
    let scene = Scene::seeded(db).await;
    let before = scene.db.dump().await;
    // An unwritable place for backups: a file where the directory should be.
    let blocker = scene.dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let inside = blocker.join("backups").display().to_string();
    scene
        .migrate_with(&[("MIGRATION_BACKUP_DIR", &inside)], &["down", "--backup"])
        .refused(1, &["backup failed", "MIGRATION_BACKUP_DIR"]);
    assert_eq!(
        scene.db.dump().await,
        before,
        "a failed backup let the command run"
    );
    // A dump tool that is not installed.
    if scene.db.backend != Backend::Sqlite {
        let package = match scene.db.backend {
            Backend::Postgres => "postgresql-client",
            _ => "mariadb-client",
        };
        scene
            .migrate_with(&[("PATH", "/nonexistent")], &["reset", "--yes", "--backup"])
            .refused(1, &["not installed", package]);
        assert_eq!(scene.db.dump().await, before);
    }
    assert!(scene.files().is_empty(), "{:?}", scene.files());
}

async fn auto_backs_up_where_the_guard_protects_the_database(db: TestDb) {
    let scene = Scene::seeded(db).await;
    // Development, auto (the default): no backup.
    scene.migrate(&["down"]).code(0);
    assert!(scene.files().is_empty());
    // Production: the guard refuses without --force; with it, auto backs up first.
    scene
        .migrate_with(&[("APP_ENV", "production")], &["up"])
        .code(0);
    scene
        .migrate_with(&[("APP_ENV", "production")], &["down"])
        .refused(5, &["production"]);
    assert!(scene.files().is_empty());
    scene
        .migrate_with(&[("APP_ENV", "production")], &["down", "--force"])
        .code(0);
    assert_eq!(scene.files().len(), 1);
    scene
        .migrate_with(&[("APP_ENV", "production")], &["up"])
        .code(0);
    // A protected URL counts as production does.
    let protected = [("APP_ENV", "production"), ("MIGRATION_PROTECTED_URLS", "*")];
    scene.migrate_with(&protected, &["down", "--force"]).code(0);
    assert_eq!(scene.files().len(), 2);
    scene
        .migrate_with(&[("APP_ENV", "production")], &["up"])
        .code(0);
    // --no-backup wins over the mode; off takes none; required backs up in development too.
    scene
        .migrate_with(
            &[("APP_ENV", "production"), ("MIGRATION_BACKUP", "required")],
            &["down", "--force", "--no-backup"],
        )
        .code(0);
    scene
        .migrate_with(&[("APP_ENV", "production")], &["up"])
        .code(0);
    scene
        .migrate_with(
            &[("MIGRATION_BACKUP", "off"), ("APP_ENV", "production")],
            &["down", "--force"],
        )
        .code(0);
    assert_eq!(scene.files().len(), 2);
    scene
        .migrate_with(&[("APP_ENV", "production")], &["up"])
        .code(0);
    scene
        .migrate_with(
            &[("APP_ENV", "production"), ("MIGRATION_BACKUP", "required")],
            &["down", "--force"],
        )
        .code(0);
    assert_eq!(scene.files().len(), 3);
    scene
        .migrate_with(&[("MIGRATION_BACKUP", "nonsense")], &["down"])
        .refused(2, &["MIGRATION_BACKUP", "off, auto or required"]);
}

async fn restore_is_guarded_and_confirmed(db: TestDb) {
    let scene = Scene::seeded(db).await;
    scene.migrate(&["down", "--backup"]).code(0);
    let file = scene.files()[0].display().to_string();
    let before = scene.db.dump().await;
    scene.migrate(&["restore", &file]).refused(5, &["--yes"]);
    scene
        .migrate_with(&[("APP_ENV", "production")], &["restore", &file, "--yes"])
        .refused(5, &["production"]);
    scene
        .migrate(&["restore", "backups/none.dump", "--yes"])
        .refused(1, &["no backup at", "migrate backups"]);
    assert_eq!(scene.db.dump().await, before);
}

async fn seed_truncate_backs_up_first(db: TestDb) {
    let scene = Scene::seeded(db).await;
    let before = scene.db.content().await;
    let seed = tests::workspace_bin("migration", "seed");
    let mut cmd = command(seed, scene.dir.path());
    cmd.env("DATABASE_URL", &scene.db.url);
    run(cmd, seed, &["truncate", "--yes", "--backup"]).code(0);
    assert_ne!(scene.db.content().await, before, "truncate emptied nothing");
    let files = scene.files();
    assert_eq!(files.len(), 1, "{files:?}");
    let listed = scene
        .migrate(&["backups", "--format", "json"])
        .code(0)
        .json();
    assert_eq!(listed[0]["command"], "seed truncate", "{listed}");
    let file = files[0].display().to_string();
    scene.migrate(&["restore", &file, "--yes"]).code(0);
    assert_eq!(scene.db.content().await, before);
}

backend_matrix!(
    seed_truncate_backs_up_first,
    a_backup_restores_into_a_new_database_equal_to_the_original,
    a_backup_that_cannot_be_taken_stops_the_command,
    auto_backs_up_where_the_guard_protects_the_database,
    restore_is_guarded_and_confirmed,
);

/// A directory of stand-ins for the client tools that record every process's command line and
/// environment while they run, then start the real tool.
fn spying_tools(dir: &Path, real: &[(&str, PathBuf)], log: &Path) {
    for (name, path) in real {
        let script = format!(
            "#!/bin/sh\nps -eo args >> '{log}'\ncat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' >> '{log}'\nexec '{real}' \"$@\"\n",
            log = log.display(),
            real = path.display()
        );
        let file = dir.join(name);
        std::fs::write(&file, script).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    // `pg_config --bindir` names this directory, so the stand-ins are the tools found.
    let pg_config = dir.join("pg_config");
    std::fs::write(&pg_config, format!("#!/bin/sh\necho '{}'\n", dir.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pg_config, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn which(tool: &str) -> PathBuf {
    let bindir = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let path = std::env::var_os("PATH").unwrap_or_default();
    bindir
        .into_iter()
        .chain(std::env::split_paths(&path))
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{tool} is not installed"))
}

/// A password in the URL reaches no output, no file and no process list, while the dump and the
/// restore run.
async fn no_password_is_shown_while_dumping(db: TestDb) {
    const SECRET: &str = "S3cr3t-pw";
    let (url, cleanup): (String, Option<String>) = match db.backend {
        // The local server trusts loopback connections, whatever password they send.
        Backend::Postgres => (
            db.url
                .replacen("postgres@", &format!("postgres:{SECRET}@"), 1),
            None,
        ),
        Backend::MariaDb => {
            let name = db.database_name().unwrap().to_owned();
            let user: String = format!("bk_{}", &name[name.len().saturating_sub(12)..]);
            let conn = db.connect().await;
            use sea_orm::ConnectionTrait;
            for sql in [
                format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{SECRET}'"),
                format!("GRANT ALL ON `{name}`.* TO '{user}'@'%'"),
            ] {
                conn.execute_unprepared(&sql).await.unwrap();
            }
            let _ = conn.close().await;
            (
                db.url.replacen("root@", &format!("{user}:{SECRET}@"), 1),
                Some(user),
            )
        }
        Backend::Sqlite => return,
    };
    let tools = TempDir::new().unwrap();
    let log = tools.path().join("seen.log");
    let real: Vec<(&str, PathBuf)> = match db.backend {
        Backend::Postgres => vec![
            ("pg_dump", which("pg_dump")),
            ("pg_restore", which("pg_restore")),
        ],
        _ => vec![
            ("mariadb-dump", which("mariadb-dump")),
            ("mariadb", which("mariadb")),
        ],
    };
    spying_tools(tools.path(), &real, &log);
    let dir = TempDir::new().unwrap();
    let path = format!(
        "{}:{}",
        tools.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let migrate = |args: &[&str]| {
        let mut cmd = command(migrate_bin(), dir.path());
        cmd.env("DATABASE_URL", &url).env("PATH", &path);
        run(cmd, migrate_bin(), args)
    };
    let up = migrate(&["up"]).code(0);
    let down = migrate(&["down", "--backup"]).code(0);
    let files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    let backup = files
        .iter()
        .find(|p| p.extension().is_none_or(|x| x != "json"))
        .unwrap()
        .display()
        .to_string();
    let restore = migrate(&["restore", &backup, "--yes"]).code(0);
    let listed = migrate(&["backups", "--format", "json"]).code(0);
    let seen = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        seen.contains("dump"),
        "the stand-in tools did not run: {seen}"
    );
    for (what, text) in [
        ("up", format!("{up:?}")),
        ("down", format!("{down:?}")),
        ("restore", format!("{restore:?}")),
        ("backups", format!("{listed:?}")),
        ("the process list", seen),
    ] {
        assert!(
            !text.contains(SECRET),
            "the password shows in {what}: {text}"
        );
    }
    for file in &files {
        if file.extension().is_some_and(|x| x == "json") {
            let manifest = std::fs::read_to_string(file).unwrap();
            assert!(!manifest.contains(SECRET), "{manifest}");
        }
    }
    if let Some(user) = cleanup {
        let conn = db.connect().await;
        use sea_orm::ConnectionTrait;
        conn.execute_unprepared(&format!("DROP USER '{user}'@'%'"))
            .await
            .unwrap();
        let _ = conn.close().await;
    }
}

backend_matrix!(no_password_is_shown_while_dumping);
