//! The tracking table: one row per applied migration, with what is needed to trust it (checksum),
//! to explain it (batch, when, who, how long) and to revert it without its code (`down` SQL).

use sea_orm::sea_query::{
    Alias, ColumnDef, DeleteStatement, Expr, ExprTrait, InsertStatement, IntoTableRef, Order,
    Query, SelectStatement, Table, TableCreateStatement, TableRef, UpdateStatement, Value,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult};

use crate::backend;
use crate::backend::target::Target;

pub use crate::plan::applied::{LedgerRow, Rendered, RowState, encode_statements};

impl crate::backend::lock::LockScope for Ledger {
    fn schema(&self) -> Option<&str> {
        Ledger::schema(self)
    }
    fn table_name(&self) -> &str {
        Ledger::table_name(self)
    }
}

/// Names and builds the statements of the ledger table; runs none of them itself except reads.
#[derive(Debug, Clone)]
pub struct Ledger {
    backend: DbBackend,
    schema: Option<String>,
    table: String,
    siblings: Vec<String>,
}

mod col {
    pub const VERSION: &str = "version";
    pub const NAME: &str = "name";
    pub const CHECKSUM: &str = "checksum";
    pub const STATE: &str = "state";
    pub const BATCH: &str = "batch";
    pub const APPLIED_AT: &str = "applied_at";
    pub const EXECUTION_MS: &str = "execution_ms";
    pub const APPLIED_BY: &str = "applied_by";
    pub const DOWN_SQL: &str = "down_sql";
    pub const ERROR: &str = "error";
    pub const ENVIRONMENT: &str = "environment";
    pub const PLAN: &str = "plan";
    pub const VIA: &str = "via";
    pub const RENDER_STOP: &str = "render_stop";
    pub const DOWN_STOP: &str = "down_stop";
    pub const RUNNER: &str = "runner";
}

/// Columns added after the ledger's first shape, each nullable text: a ledger created before
/// them is upgraded in place ([`Ledger::upgrade`]) and read without them until then.
const ADDED: [&str; 3] = [col::RENDER_STOP, col::DOWN_STOP, col::RUNNER];

const COLUMNS: [&str; 16] = [
    col::VERSION,
    col::NAME,
    col::CHECKSUM,
    col::STATE,
    col::BATCH,
    col::APPLIED_AT,
    col::EXECUTION_MS,
    col::APPLIED_BY,
    col::DOWN_SQL,
    col::ERROR,
    col::ENVIRONMENT,
    col::PLAN,
    col::VIA,
    col::RENDER_STOP,
    col::DOWN_STOP,
    col::RUNNER,
];

impl Ledger {
    /// The ledger of `target`: its migration table, in its migration schema, else its database
    /// schema, else the connection's. The one place a target's ledger is named, so every
    /// command, the start-up API and the seeder agree on it.
    pub fn of(target: &Target) -> Self {
        Self::placed(
            target.backend(),
            target.database_schema.as_deref(),
            target.migration_schema.as_deref(),
            &target.migration_table,
        )
    }

    /// A ledger named `table`, in `schema` on PostgreSQL (other backends have one namespace per
    /// database, so the schema is ignored there).
    pub fn new(backend: DbBackend, schema: Option<String>, table: impl Into<String>) -> Self {
        let schema = schema.filter(|_| backend == DbBackend::Postgres);
        Self {
            backend,
            schema,
            table: table.into(),
            siblings: Vec::new(),
        }
    }

    /// A ledger named `table` in `migration_schema`, else in `database_schema`: the rule
    /// [`Ledger::of`] places a target's ledger by, for a runner that has settings rather than a
    /// target (the start-up API). Runners must agree on it, as the migration lock is keyed by
    /// the ledger's schema and name.
    pub fn placed(
        backend: DbBackend,
        database_schema: Option<&str>,
        migration_schema: Option<&str>,
        table: &str,
    ) -> Self {
        Self::new(
            backend,
            migration_schema.or(database_schema).map(str::to_owned),
            table,
        )
    }

    /// This ledger with the ledger tables of the other sets of its project: on a database that
    /// holds one of them, the objects beside it are those sets' work, not a schema to baseline.
    #[must_use]
    pub fn with_siblings(mut self, tables: Vec<String>) -> Self {
        self.siblings = tables.into_iter().filter(|t| *t != self.table).collect();
        self
    }

    /// The ledger tables of the other sets of the project.
    pub fn siblings(&self) -> &[String] {
        &self.siblings
    }

    /// The backend the statements are built for.
    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// The schema holding the ledger tables, if one was named.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The ledger table's name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// A table that shares the ledger's schema and takes its name as prefix.
    pub fn companion(&self, suffix: &str) -> TableRef {
        self.table_ref(format!("{}_{suffix}", self.table))
    }

    pub(crate) fn table_ref(&self, name: String) -> TableRef {
        match &self.schema {
            Some(schema) => (Alias::new(schema), Alias::new(name)).into_table_ref(),
            None => Alias::new(name).into_table_ref(),
        }
    }

    fn me(&self) -> TableRef {
        self.table_ref(self.table.clone())
    }

    /// `CREATE TABLE IF NOT EXISTS` for the ledger.
    pub fn create_table(&self) -> TableCreateStatement {
        let b = self.backend;
        let text = |name: &'static str| ColumnDef::new(Alias::new(name)).text().to_owned();
        Table::create()
            .table(self.me())
            .if_not_exists()
            .col(
                ColumnDef::new(Alias::new(col::VERSION))
                    .string_len(32)
                    .not_null()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(Alias::new(col::NAME))
                    .string_len(255)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new(col::CHECKSUM))
                    .string_len(64)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new(col::STATE))
                    .string_len(16)
                    .not_null(),
            )
            .col(ColumnDef::new(Alias::new(col::BATCH)).integer().not_null())
            .col(backend::timestamp_column(b, col::APPLIED_AT))
            .col(
                ColumnDef::new(Alias::new(col::EXECUTION_MS))
                    .big_integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new(col::APPLIED_BY))
                    .string_len(255)
                    .not_null(),
            )
            .col(text(col::DOWN_SQL))
            .col(text(col::ERROR))
            .col(
                ColumnDef::new(Alias::new(col::ENVIRONMENT))
                    .string_len(64)
                    .null(),
            )
            .col(ColumnDef::new(Alias::new(col::PLAN)).string_len(100).null())
            .col(ColumnDef::new(Alias::new(col::VIA)).string_len(255).null())
            .col(text(col::RENDER_STOP))
            .col(text(col::DOWN_STOP))
            .col(text(col::RUNNER))
            .to_owned()
    }

    /// Selects every row in version order.
    pub fn select_all(&self) -> SelectStatement {
        self.select(&COLUMNS)
    }

    fn select(&self, columns: &[&str]) -> SelectStatement {
        Query::select()
            .columns(columns.iter().map(|c| qualified(c)))
            .from_as(self.me(), Alias::new(QUALIFIER))
            .order_by(qualified(col::VERSION), Order::Asc)
            .to_owned()
    }

    /// Adds the columns a ledger created by an earlier version lacks; does nothing to a current
    /// ledger (one probe) or where there is no ledger yet. Runs under the migration lock, before
    /// anything is written. Returns the columns it added.
    ///
    /// # Errors
    /// A database error other than the probe's missing column or table.
    pub async fn upgrade<C: ConnectionTrait>(&self, conn: &C) -> Result<Vec<String>, DbErr> {
        add_missing_columns(conn, self.me(), &ADDED).await
    }

    /// Reads the ledger; `None` when the table does not exist yet.
    ///
    /// # Errors
    /// Any database error other than the table being absent.
    pub async fn read<C: ConnectionTrait>(
        &self,
        conn: &C,
    ) -> Result<Option<Vec<LedgerRow>>, DbErr> {
        let rows = match conn.query_all(&self.select_all()).await {
            Ok(rows) => rows,
            Err(e) if backend::is_undefined_table(&e) => return Ok(None),
            // A ledger from before the newest columns: read what it has, newest added last.
            Err(e) if backend::is_undefined_column(&e) => {
                let without = |added: &[&str]| -> Vec<&str> {
                    COLUMNS.into_iter().filter(|c| !added.contains(c)).collect()
                };
                match conn.query_all(&self.select(&without(&[col::RUNNER]))).await {
                    Err(e) if backend::is_undefined_column(&e) => {
                        conn.query_all(&self.select(&without(&ADDED))).await?
                    }
                    read => read?,
                }
            }
            Err(e) => return Err(e),
        };
        rows.iter()
            .map(|r| self.decode(r))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// The environment the database was first migrated in: that of its oldest row that records
    /// one, or `None` for a database without a ledger (or with rows from before environments
    /// were kept). The guard refuses destructive work on a database of another environment.
    ///
    /// # Errors
    /// A database error other than a missing ledger.
    pub async fn first_environment<C: ConnectionTrait>(
        &self,
        conn: &C,
    ) -> Result<Option<String>, DbErr> {
        Ok(self
            .read(conn)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.environment.is_some())
            .min_by(|a, b| (a.applied_at, &a.version).cmp(&(b.applied_at, &b.version)))
            .and_then(|r| r.environment))
    }

    fn decode(&self, row: &QueryResult) -> Result<LedgerRow, DbErr> {
        let state: String = row.try_get("", col::STATE)?;
        Ok(LedgerRow {
            version: row.try_get("", col::VERSION)?,
            name: row.try_get("", col::NAME)?,
            checksum: row.try_get("", col::CHECKSUM)?,
            state: RowState::parse(&state),
            batch: row.try_get("", col::BATCH)?,
            applied_at: backend::read_timestamp(self.backend, row, col::APPLIED_AT)?,
            execution_ms: row.try_get("", col::EXECUTION_MS)?,
            applied_by: row.try_get("", col::APPLIED_BY)?,
            down_sql: row.try_get("", col::DOWN_SQL)?,
            error: row.try_get("", col::ERROR)?,
            environment: row.try_get("", col::ENVIRONMENT)?,
            plan: row.try_get("", col::PLAN)?,
            via: row.try_get("", col::VIA)?,
            render_stop: row.try_get("", col::RENDER_STOP).unwrap_or_default(),
            down_stop: row.try_get("", col::DOWN_STOP).unwrap_or_default(),
            runner: row.try_get("", col::RUNNER).unwrap_or_default(),
        })
    }

    /// Inserts a row.
    pub fn insert(&self, row: &LedgerRow) -> InsertStatement {
        Query::insert()
            .into_table(self.me())
            .columns(COLUMNS.map(Alias::new))
            .values_panic(<[Value; 16]>::map(
                [
                    row.version.clone().into(),
                    row.name.clone().into(),
                    row.checksum.clone().into(),
                    row.state.as_str().into(),
                    row.batch.into(),
                    backend::timestamp_value(self.backend, row.applied_at),
                    row.execution_ms.into(),
                    row.applied_by.clone().into(),
                    row.down_sql.clone().into(),
                    row.error.clone().into(),
                    row.environment.clone().into(),
                    row.plan.clone().into(),
                    row.via.clone().into(),
                    row.render_stop.clone().into(),
                    row.down_stop.clone().into(),
                    row.runner.clone().into(),
                ],
                Expr::val,
            ))
            .to_owned()
    }

    /// Marks a row's state, with the error when it failed and the duration when it completed.
    pub fn set_state(
        &self,
        version: &str,
        state: RowState,
        error: Option<String>,
        execution_ms: Option<i64>,
    ) -> UpdateStatement {
        let mut update = Query::update();
        update
            .table(self.me())
            .value(Alias::new(col::STATE), state.as_str())
            .value(Alias::new(col::ERROR), error)
            .and_where(Expr::col(Alias::new(col::VERSION)).eq(version));
        if let Some(ms) = execution_ms {
            update.value(Alias::new(col::EXECUTION_MS), ms);
        }
        update.to_owned()
    }

    /// Marks a row `running` again (a `down` of a migration outside a transaction is starting),
    /// recording `runner`, the token of the table lock of the run, if any.
    pub fn mark_running(&self, version: &str, runner: Option<String>) -> UpdateStatement {
        Query::update()
            .table(self.me())
            .value(Alias::new(col::STATE), RowState::Running.as_str())
            .value(Alias::new(col::ERROR), Option::<String>::None)
            .value(Alias::new(col::RUNNER), runner)
            .and_where(Expr::col(Alias::new(col::VERSION)).eq(version))
            .to_owned()
    }

    /// Marks every `running` row failed with `error`: how a run interrupted on MySQL/MariaDB
    /// leaves the migration it had started for `repair` (the lock guarantees the row is ours).
    pub fn fail_running(&self, error: &str) -> UpdateStatement {
        Query::update()
            .table(self.me())
            .value(Alias::new(col::STATE), RowState::Failed.as_str())
            .value(Alias::new(col::ERROR), error)
            .and_where(Expr::col(Alias::new(col::STATE)).eq(RowState::Running.as_str()))
            .to_owned()
    }

    /// Marks every `running` row failed with `error` but those of `at_work`, the versions
    /// whose runner still holds a live table lock: how a run under the lock clears what runners
    /// that are gone left behind.
    pub fn fail_running_except(&self, error: &str, at_work: &[String]) -> UpdateStatement {
        let mut update = self.fail_running(error);
        if !at_work.is_empty() {
            update
                .and_where(Expr::col(Alias::new(col::VERSION)).is_not_in(at_work.iter().cloned()));
        }
        update
    }

    /// Re-records a checksum (and the `down` SQL rendered with it) after a deliberate change.
    pub fn set_checksum(&self, version: &str, rendered: &Rendered) -> UpdateStatement {
        Query::update()
            .table(self.me())
            .value(Alias::new(col::CHECKSUM), rendered.checksum.clone())
            .value(Alias::new(col::RENDER_STOP), rendered.render_stop.clone())
            .value(Alias::new(col::DOWN_SQL), rendered.down_sql.clone())
            .value(Alias::new(col::DOWN_STOP), rendered.down_stop.clone())
            .and_where(Expr::col(Alias::new(col::VERSION)).eq(version))
            .to_owned()
    }

    /// Removes a row.
    pub fn delete(&self, version: &str) -> DeleteStatement {
        Query::delete()
            .from_table(self.me())
            .and_where(Expr::col(Alias::new(col::VERSION)).eq(version))
            .to_owned()
    }
}

/// The alias the ledger's reads give its table. Their columns are qualified with it because
/// SQLite takes a double-quoted name that matches no column for a string literal: a bare
/// `"render_stop"` read from a ledger without that column would come back as the text
/// `render_stop` instead of failing.
const QUALIFIER: &str = "t";

fn qualified(column: &str) -> (Alias, Alias) {
    (Alias::new(QUALIFIER), Alias::new(column))
}

/// Adds each of `columns` (nullable text) that `table` lacks, probing for them first; nothing
/// when the table has them all or does not exist. Returns the columns added.
pub(crate) async fn add_missing_columns<C: ConnectionTrait>(
    conn: &C,
    table: TableRef,
    columns: &[&str],
) -> Result<Vec<String>, DbErr> {
    let probe = Query::select()
        .columns(columns.iter().map(|c| qualified(c)))
        .from_as(table.clone(), Alias::new(QUALIFIER))
        .and_where(Expr::val(1).eq(0))
        .to_owned();
    match conn.query_all(&probe).await {
        Ok(_) => return Ok(Vec::new()),
        Err(e) if backend::is_undefined_column(&e) => {}
        Err(e) if backend::is_undefined_table(&e) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    }
    let mut added = Vec::new();
    for column in columns {
        let alter = Table::alter()
            .table(table.clone())
            .add_column(ColumnDef::new(Alias::new(*column)).text().null())
            .to_owned();
        match conn.execute(&alter).await {
            Ok(_) => added.push((*column).to_owned()),
            Err(e) if backend::is_duplicate_column(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(added)
}

/// The next batch number: one more than the highest recorded.
pub fn next_batch(rows: &[LedgerRow]) -> i32 {
    rows.iter().map(|r| r.batch).max().unwrap_or(0) + 1
}
