//! Dropping every table and view in the target schema, for `fresh`.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

fn quote(backend: DbBackend, name: &str) -> String {
    match backend {
        DbBackend::MySql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// Tables and views in the schema the connection works in, views first (they depend on tables).
///
/// # Errors
/// The catalog query's error.
pub async fn list_objects<C: ConnectionTrait>(conn: &C) -> Result<Vec<(String, bool)>, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name, table_type = 'VIEW' AS is_view FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY 2 DESC, 1"
        }
        DbBackend::MySql => {
            "SELECT table_name AS name, table_type = 'VIEW' AS is_view FROM information_schema.tables \
             WHERE table_schema = DATABASE() ORDER BY 2 DESC, 1"
        }
        _ => {
            "SELECT name, type = 'view' AS is_view FROM sqlite_master \
             WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY 2 DESC, 1"
        }
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    rows.iter()
        .map(|r| {
            let name: String = r.try_get("", "name")?;
            let is_view = r
                .try_get::<bool>("", "is_view")
                .or_else(|_| r.try_get::<i64>("", "is_view").map(|v| v != 0))?;
            Ok((name, is_view))
        })
        .collect()
}

/// Drops what [`list_objects`] lists, with foreign key checks off where the backend needs it,
/// and returns the names dropped.
///
/// # Errors
/// The first failing statement's error.
pub async fn drop_all<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>, DbErr> {
    let backend = conn.get_database_backend();
    let objects = list_objects(conn).await?;
    match backend {
        DbBackend::MySql => conn
            .execute_unprepared("SET FOREIGN_KEY_CHECKS = 0")
            .await
            .map(drop)?,
        DbBackend::Sqlite => conn
            .execute_unprepared("PRAGMA foreign_keys = OFF")
            .await
            .map(drop)?,
        _ => {}
    };
    let mut dropped = Vec::new();
    let mut result = Ok(());
    for (name, is_view) in &objects {
        let kind = if *is_view { "VIEW" } else { "TABLE" };
        let cascade = if backend == DbBackend::Postgres {
            " CASCADE"
        } else {
            ""
        };
        let sql = format!("DROP {kind} IF EXISTS {}{cascade}", quote(backend, name));
        if let Err(e) = conn.execute_unprepared(&sql).await {
            result = Err(e);
            break;
        }
        dropped.push(name.clone());
    }
    match backend {
        DbBackend::MySql => conn
            .execute_unprepared("SET FOREIGN_KEY_CHECKS = 1")
            .await
            .map(drop)?,
        DbBackend::Sqlite => conn
            .execute_unprepared("PRAGMA foreign_keys = ON")
            .await
            .map(drop)?,
        _ => {}
    };
    result.map(|()| dropped)
}
