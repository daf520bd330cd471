//! SQLite backups: an online copy of the database with `VACUUM INTO`, checked with `PRAGMA
//! quick_check`; restored by attaching the copy and recreating its schema and rows in the target.

use std::path::Path;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::error::{EngineError, Result};

fn failed(context: &str) -> impl FnOnce(sea_orm::DbErr) -> EngineError + '_ {
    move |e| EngineError::Backup {
        message: format!("{context}: {e}"),
    }
}

fn literal(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}

/// Copies the database `conn` is open on into `path` (an empty file).
pub(crate) async fn dump(conn: &DatabaseConnection, path: &Path) -> Result<&'static str> {
    conn.execute_unprepared(&format!("VACUUM INTO {}", literal(path)))
        .await
        .map_err(failed("VACUUM INTO"))?;
    let copy = crate::backend::target::Target::new(
        &format!("sqlite://{}?mode=ro", path.display()),
        None,
        None,
        None,
    )?
    .connect(std::time::Duration::from_secs(10))
    .await?;
    let checked = copy
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA quick_check",
        ))
        .await
        .map_err(failed("checking the copy"))
        .and_then(|row| {
            row.and_then(|r| r.try_get_by_index::<String>(0).ok())
                .ok_or_else(|| EngineError::Backup {
                    message: "checking the copy: no answer".to_owned(),
                })
        });
    let _ = copy.close().await;
    match checked?.as_str() {
        "ok" => Ok("VACUUM INTO"),
        other => Err(EngineError::Backup {
            message: format!("the copy at {} is damaged: {other}", path.display()),
        }),
    }
}

/// Recreates the schema and rows of the copy at `path` in the database `conn` is open on, whose
/// schema is empty: tables and their indexes first, then the rows, then views and triggers, in
/// the order the copy lists them. With every index in place and the tables empty, SQLite copies
/// each table's rows and index entries as they are stored (its transfer optimisation for
/// `INSERT INTO … SELECT * FROM …` between identical tables), rather than inserting row by row
/// and building the indexes afterwards.
pub(crate) async fn restore(conn: &DatabaseConnection, path: &Path) -> Result<()> {
    restore_replacing(conn, path, false).await
}

/// [`restore`], first dropping every table and view of the database `conn` is open on when
/// `replace`, in a transaction of their own. Not in the restore's: pages freed there and filled
/// again by the restore would each be written to the rollback journal first, twice the writes;
/// freed by a committed transaction, they are reused without.
pub(crate) async fn restore_replacing(
    conn: &DatabaseConnection,
    path: &Path,
    replace: bool,
) -> Result<()> {
    let run = |sql: String| async move {
        conn.execute_unprepared(&sql)
            .await
            .map_err(failed("restoring"))
            .map(drop)
    };
    run(format!("ATTACH DATABASE {} AS backup", literal(path))).await?;
    let restored = async {
        let objects = conn
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT type, name, sql FROM backup.sqlite_master \
                 WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
                 ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid",
            ))
            .await
            .map_err(failed("reading the backup"))?;
        run("PRAGMA foreign_keys = OFF".to_owned()).await?;
        if replace {
            run("BEGIN".to_owned()).await?;
            let current = conn
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT type, name FROM main.sqlite_master \
                     WHERE type IN ('view', 'table') AND name NOT LIKE 'sqlite_%' \
                     ORDER BY type = 'table'",
                ))
                .await
                .map_err(failed("reading the database"))?;
            for object in &current {
                let kind: String = object.try_get_by_index(0).map_err(failed("reading the database"))?;
                let name: String = object.try_get_by_index(1).map_err(failed("reading the database"))?;
                let quoted = format!("\"{}\"", name.replace('"', "\"\""));
                run(format!("DROP {kind} IF EXISTS main.{quoted}")).await?;
            }
            run("COMMIT".to_owned()).await?;
        }
        run("BEGIN".to_owned()).await?;
        let mut later = Vec::new();
        let mut tables = Vec::new();
        for object in &objects {
            let kind: String = object.try_get_by_index(0).map_err(failed("reading the backup"))?;
            let name: String = object.try_get_by_index(1).map_err(failed("reading the backup"))?;
            let sql: String = object.try_get_by_index(2).map_err(failed("reading the backup"))?;
            match kind.as_str() {
                "table" => {
                    run(sql).await?;
                    tables.push(name);
                }
                "index" => run(sql).await?,
                _ => later.push(sql),
            }
        }
        for name in &tables {
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            run(format!("INSERT INTO main.{quoted} SELECT * FROM backup.{quoted}")).await?;
        }
        for sql in later {
            run(sql).await?;
        }
        // AUTOINCREMENT counters live in sqlite_sequence, which the tables' rows do not restore
        // when the copy's counter ran past its highest row.
        let counters = conn
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT 1 FROM backup.sqlite_master WHERE name = 'sqlite_sequence'",
            ))
            .await
            .map_err(failed("reading the backup"))?;
        if counters.is_some() {
            run("DELETE FROM main.sqlite_sequence".to_owned()).await?;
            run("INSERT INTO main.sqlite_sequence SELECT * FROM backup.sqlite_sequence".to_owned())
                .await?;
        }
        run("COMMIT".to_owned()).await
    }
    .await;
    if restored.is_err() {
        let _ = conn.execute_unprepared("ROLLBACK").await;
    }
    let _ = conn.execute_unprepared("PRAGMA foreign_keys = ON").await;
    let _ = conn.execute_unprepared("DETACH DATABASE backup").await;
    restored
}
