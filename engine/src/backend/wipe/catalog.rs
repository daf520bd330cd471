//! Listing what a schema holds from the database's catalog, and dropping it.

use sea_orm::{ConnectionTrait, DbErr, Statement};

use super::objects::{Object, ObjectKind, kind_of, quote};

/// Every object in the schema the connection works in, in an order they can be dropped.
///
/// # Errors
/// The catalog query's error.
pub async fn list_objects<C: ConnectionTrait>(conn: &C) -> Result<Vec<Object>, DbErr> {
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            crate::backend::capabilities(backend).objects_query,
        ))
        .await?;
    let mut objects = Vec::with_capacity(rows.len());
    for row in rows {
        let label: String = row.try_get("", "kind")?;
        let name: String = row.try_get("", "name")?;
        let kind = kind_of(&label)
            .ok_or_else(|| DbErr::Custom(format!("unexpected object kind `{label}`")))?;
        // PostgreSQL names come back quoted (and routines with their signature).
        let name = if crate::backend::capabilities(backend).objects_quoted {
            name
        } else {
            quote(backend, &name)
        };
        objects.push(Object { kind, name });
    }
    Ok(objects)
}

/// The schemas beside the current one that a project's migrations may have created (PostgreSQL:
/// every schema that is not a system schema, not the current one and not an extension's); none
/// on the other backends, where a schema is a database. [`list_objects`] leaves them out: only
/// the ones the migrations create are the project's to drop ([`drop_schemas`]).
///
/// # Errors
/// The catalog query's error.
pub async fn list_schemas<C: ConnectionTrait>(conn: &C) -> Result<Vec<Object>, DbErr> {
    let backend = conn.get_database_backend();
    let Some(sql) = crate::backend::capabilities(backend).schemas_query else {
        return Ok(Vec::new());
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Object {
                kind: ObjectKind::Schema,
                name: row.try_get("", "name")?,
            })
        })
        .collect()
}

/// Drops `schemas` with everything in them, and returns them.
///
/// # Errors
/// The first failing statement's error.
pub async fn drop_schemas<C: ConnectionTrait>(
    conn: &C,
    schemas: Vec<Object>,
) -> Result<Vec<Object>, DbErr> {
    for schema in &schemas {
        conn.execute_unprepared(&format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.name))
            .await?;
    }
    Ok(schemas)
}

/// `objects` in their order, as the statements that drop them: runs of tables, and runs of
/// views, in one statement each where `lists` (the backend drops lists), every other object on
/// its own.
fn drop_groups(objects: Vec<Object>, lists: bool) -> Vec<Vec<Object>> {
    let mut groups: Vec<Vec<Object>> = Vec::new();
    for object in objects {
        let listable = lists && matches!(object.kind, ObjectKind::Table | ObjectKind::View);
        match groups.last_mut() {
            Some(last) if listable && last[0].kind == object.kind => last.push(object),
            _ => groups.push(vec![object]),
        }
    }
    groups
}

/// Drops what [`list_objects`] lists but what `keep` keeps, with foreign key checks off where
/// the backend needs it, and returns what it dropped.
///
/// # Errors
/// The first failing statement's error.
pub async fn drop_all<C: ConnectionTrait>(
    conn: &C,
    keep: impl Fn(&Object) -> bool,
) -> Result<Vec<Object>, DbErr> {
    let backend = conn.get_database_backend();
    let mut objects = list_objects(conn).await?;
    objects.retain(|o| !keep(o));
    let capabilities = crate::backend::capabilities(backend);
    if let Some((off, _)) = capabilities.foreign_key_checks {
        conn.execute_unprepared(off).await?;
    }
    if capabilities.wipe_in_one_transaction {
        conn.execute_unprepared("BEGIN").await?;
    }
    let mut dropped = Vec::new();
    let mut result = Ok(());
    // IF EXISTS: a CASCADE may have taken one along already.
    let cascade = if capabilities.drop_cascades {
        " CASCADE"
    } else {
        ""
    };
    for group in drop_groups(objects, capabilities.drops_lists) {
        let names: Vec<&str> = group.iter().map(|o| o.name.as_str()).collect();
        let sql = format!(
            "DROP {} IF EXISTS {}{cascade}",
            group[0].kind.keyword(),
            names.join(", ")
        );
        if let Err(e) = conn.execute_unprepared(&sql).await {
            result = Err(e);
            break;
        }
        dropped.extend(group);
    }
    if capabilities.wipe_in_one_transaction {
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        if let Err(e) = conn.execute_unprepared(end).await {
            result = result.and(Err(e));
        }
        if result.is_err() {
            dropped.clear();
        }
    }
    if let Some((_, on)) = capabilities.foreign_key_checks {
        conn.execute_unprepared(on).await?;
    }
    result.map(|()| dropped)
}
