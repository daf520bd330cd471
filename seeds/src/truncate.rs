//! Emptying the seeded tables, children first, and restarting their ids, without touching the
//! schema, the migration ledger or any table the seeder does not fill.

use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};

use crate::error::{Result, SeedError};
use crate::generate::table_names;
use crate::load::quote;
use crate::sequences;

/// Rows per seeded table, in load order.
///
/// # Errors
/// The database's error.
pub async fn counts<C: ConnectionTrait>(db: &C) -> Result<Vec<(&'static str, u64)>> {
    let mut out = Vec::new();
    for table in table_names() {
        let query = Query::select()
            .expr(Expr::col(Asterisk).count())
            .from(Alias::new(table))
            .take();
        let row = db
            .query_one(&query)
            .await
            .map_err(SeedError::db(format!("counting the rows of {table}")))?;
        let n = row
            .and_then(|r| r.try_get_by_index::<i64>(0).ok())
            .unwrap_or(0);
        out.push((table, u64::try_from(n).unwrap_or(0)));
    }
    Ok(out)
}

/// Empties every seeded table, children first, and restarts their id sequences.
///
/// # Errors
/// The database's error; on PostgreSQL and SQLite nothing is emptied then.
pub async fn empty(db: &DatabaseConnection) -> Result<()> {
    let backend = db.get_database_backend();
    let mut tables = table_names();
    tables.reverse();
    let failed = SeedError::db("emptying the seeded tables");
    match backend {
        DbBackend::Postgres => {
            // One statement: all of them at once, so no foreign key sees a half-empty state.
            let list: Vec<String> = tables.iter().map(|t| quote(backend, t)).collect();
            db.execute_unprepared(&format!(
                "TRUNCATE TABLE {} RESTART IDENTITY",
                list.join(", ")
            ))
            .await
            .map_err(failed)?;
        }
        DbBackend::MySql => {
            // InnoDB refuses TRUNCATE on a table that other tables reference, even when they
            // are empty; with checks off for this session, emptying every referencing table in
            // the same pass leaves no dangling reference. The transaction only pins the
            // session: TRUNCATE commits by itself.
            let txn = db
                .begin()
                .await
                .map_err(SeedError::db("emptying the seeded tables"))?;
            txn.execute_unprepared("SET FOREIGN_KEY_CHECKS = 0")
                .await
                .map_err(SeedError::db("emptying the seeded tables"))?;
            let mut result = Ok(());
            for table in &tables {
                if let Err(e) = txn
                    .execute_unprepared(&format!("TRUNCATE TABLE {}", quote(backend, table)))
                    .await
                {
                    result = Err(e);
                    break;
                }
            }
            let restored = txn.execute_unprepared("SET FOREIGN_KEY_CHECKS = 1").await;
            txn.commit()
                .await
                .map_err(SeedError::db("emptying the seeded tables"))?;
            result.map_err(SeedError::db("emptying the seeded tables"))?;
            restored.map_err(SeedError::db("emptying the seeded tables"))?;
        }
        _ => {
            let txn = db
                .begin()
                .await
                .map_err(SeedError::db("emptying the seeded tables"))?;
            for table in &tables {
                txn.execute_unprepared(&format!("DELETE FROM {}", quote(backend, table)))
                    .await
                    .map_err(SeedError::db(format!("emptying {table}")))?;
            }
            sequences::reset(&txn, &tables).await?;
            txn.commit()
                .await
                .map_err(SeedError::db("emptying the seeded tables"))?;
        }
    }
    Ok(())
}
