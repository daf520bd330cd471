//! Generated rows as the loader, the hasher and the benchmark see them: a table name, its
//! columns in entity order, and each row as SeaQuery values read from the entity model, so the
//! `entity` crate stays the one description of every table.

use sea_orm::sea_query::Value;
use sea_orm::{EntityTrait, IdenStatic, Iterable, ModelTrait};

/// Columns the database computes: never written by the loader. `timeslots.booked_count` is
/// kept by the triggers on `booking_items`; the generator tracks the value it expects so the
/// content hash covers the triggers' work too.
pub const COMPUTED: &[(&str, &str)] = &[("timeslots", "booked_count")];

/// Columns whose value depends on when the load ran: left out of the content hash. A
/// timeslot's `updated_at` moves when the capacity triggers update `booked_count` (a trigger on
/// PostgreSQL and SQLite, `ON UPDATE CURRENT_TIMESTAMP` on MariaDB).
pub const VOLATILE: &[(&str, &str)] = &[("timeslots", "updated_at")];

/// One table of generated rows.
pub trait Table: Sync {
    /// The table's name.
    fn name(&self) -> &'static str;
    /// Every column, in entity order.
    fn columns(&self) -> Vec<&'static str>;
    /// How many rows.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Row `index`'s values, one per column.
    fn row(&self, index: usize) -> Vec<Value>;
}

impl<M> Table for Vec<M>
where
    M: ModelTrait + Sync,
{
    fn name(&self) -> &'static str {
        entity_name::<M::Entity>()
    }

    fn columns(&self) -> Vec<&'static str> {
        <M::Entity as EntityTrait>::Column::iter()
            .map(|c| c.as_str())
            .collect()
    }

    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn row(&self, index: usize) -> Vec<Value> {
        let model = &self[index];
        <M::Entity as EntityTrait>::Column::iter()
            .map(|c| model.get(c))
            .collect()
    }
}

/// The table name of an entity.
pub fn entity_name<E: EntityTrait>() -> &'static str {
    E::default().table_name()
}

/// Whether `table.column` is in `list`.
pub fn listed(list: &[(&str, &str)], table: &str, column: &str) -> bool {
    list.iter().any(|(t, c)| *t == table && *c == column)
}

/// The columns the loader writes, with their positions in [`Table::row`]: all but the
/// [`COMPUTED`] ones.
pub fn loaded_columns(table: &dyn Table) -> Vec<(usize, &'static str)> {
    let name = table.name();
    table
        .columns()
        .into_iter()
        .enumerate()
        .filter(|(_, column)| !listed(COMPUTED, name, column))
        .collect()
}
