//! The objects a schema holds, as `fresh` lists and drops them: their kinds, and their names
//! as SQL quotes them and as people read them.

use std::fmt;

use sea_orm::DbBackend;
use serde::Serialize;

/// What kind of object [`list_objects`](super::list_objects) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A view (dropped first: it depends on tables).
    View,
    /// A table, with its indexes and triggers.
    Table,
    /// A PostgreSQL sequence no table column owns.
    Sequence,
    /// A function (PostgreSQL, MySQL).
    Function,
    /// A procedure (PostgreSQL, MySQL).
    Procedure,
    /// A PostgreSQL enum, range or composite type.
    Type,
    /// A PostgreSQL domain.
    Domain,
    /// A PostgreSQL extension installed into the schema.
    Extension,
    /// A PostgreSQL schema beside the current one that the project's migrations create,
    /// dropped with everything in it.
    Schema,
}

impl ObjectKind {
    /// The SQL keyword after `DROP`.
    pub(super) fn keyword(self) -> &'static str {
        match self {
            ObjectKind::View => "VIEW",
            ObjectKind::Table => "TABLE",
            ObjectKind::Sequence => "SEQUENCE",
            ObjectKind::Function => "FUNCTION",
            ObjectKind::Procedure => "PROCEDURE",
            ObjectKind::Type => "TYPE",
            ObjectKind::Domain => "DOMAIN",
            ObjectKind::Extension => "EXTENSION",
            ObjectKind::Schema => "SCHEMA",
        }
    }
}

impl ObjectKind {
    /// The kind a `CREATE`/`DROP`/`ALTER` keyword names, for the kinds
    /// [`list_objects`](super::list_objects) lists.
    pub(super) fn from_keyword(word: &str) -> Option<Self> {
        Some(match word {
            "VIEW" => ObjectKind::View,
            "TABLE" => ObjectKind::Table,
            "SEQUENCE" => ObjectKind::Sequence,
            "FUNCTION" => ObjectKind::Function,
            "PROCEDURE" => ObjectKind::Procedure,
            "TYPE" => ObjectKind::Type,
            "DOMAIN" => ObjectKind::Domain,
            "EXTENSION" => ObjectKind::Extension,
            "SCHEMA" => ObjectKind::Schema,
            _ => return None,
        })
    }

    /// The order listings show kinds in: tables first, as people look for them.
    pub(crate) fn rank(self) -> u8 {
        match self {
            ObjectKind::Table => 0,
            ObjectKind::View => 1,
            ObjectKind::Function => 2,
            ObjectKind::Procedure => 3,
            ObjectKind::Type => 4,
            ObjectKind::Domain => 5,
            ObjectKind::Sequence => 6,
            ObjectKind::Extension => 7,
            ObjectKind::Schema => 8,
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.keyword().to_ascii_lowercase())
    }
}

/// One object in the schema, named so that `DROP <kind> <name>` finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name; for PostgreSQL routines, the signature (`set_updated_at()`), already quoted.
    pub name: String,
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

impl Object {
    /// The schema `name` (unquoted), as `DROP SCHEMA` names it on `backend`.
    pub fn schema(backend: DbBackend, name: &str) -> Self {
        Object {
            kind: ObjectKind::Schema,
            name: quote(backend, name),
        }
    }
}

impl Object {
    /// The name as people read it: without quotes, and for PostgreSQL routines with their
    /// signature (`set_updated_at()`).
    pub fn display_name(&self) -> String {
        let (identifier, rest) = split_identifier(&self.name);
        format!("{identifier}{rest}")
    }

    /// The bare identifier, without quotes or signature: what SQL statements name it by.
    pub fn identifier(&self) -> String {
        split_identifier(&self.name).0
    }

    /// `table tenants`, `function set_updated_at()`: for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind, self.display_name())
    }

    /// The order listings show objects in: by kind (tables first), then by name.
    pub(super) fn sort_key(&self) -> (u8, String) {
        (self.kind.rank(), self.display_name().to_ascii_lowercase())
    }
}

/// Splits a quoted (`"a""b"`, `` `a` ``) or bare name into its unquoted identifier and what
/// follows it (a PostgreSQL routine's signature).
fn split_identifier(name: &str) -> (String, &str) {
    let Some(quote) = name.chars().next().filter(|c| matches!(c, '"' | '`')) else {
        let end = name.find('(').unwrap_or(name.len());
        return (name[..end].to_owned(), &name[end..]);
    };
    let mut identifier = String::new();
    let mut chars = name.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if chars.peek().is_some_and(|&(_, next)| next == quote) {
                chars.next();
            } else {
                return (identifier, &name[i + c.len_utf8()..]);
            }
        }
        identifier.push(c);
    }
    (identifier, "")
}

/// `name` quoted as an identifier on `backend`.
pub(super) fn quote(backend: DbBackend, name: &str) -> String {
    let q = crate::backend::capabilities(backend).quote;
    format!("{q}{}{q}", name.replace(q, &format!("{q}{q}")))
}

/// The kind a catalog query labels an object with.
pub(super) fn kind_of(label: &str) -> Option<ObjectKind> {
    Some(match label {
        "view" => ObjectKind::View,
        "table" => ObjectKind::Table,
        "sequence" => ObjectKind::Sequence,
        "function" => ObjectKind::Function,
        "procedure" => ObjectKind::Procedure,
        "type" => ObjectKind::Type,
        "domain" => ObjectKind::Domain,
        "extension" => ObjectKind::Extension,
        _ => return None,
    })
}

#[cfg(test)]
impl Object {
    /// An object named `name` as it is written, quotes and all.
    pub(super) fn named(kind: ObjectKind, name: &str) -> Self {
        Object {
            kind,
            name: name.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_out_of_their_quotes_with_signatures_kept() {
        use ObjectKind::*;
        let o = Object::named(Table, "\"we\"\"ird\"");
        assert_eq!(
            (o.identifier(), o.display_name()),
            ("we\"ird".into(), "we\"ird".into())
        );
        let o = Object::named(Table, "`a``b`");
        assert_eq!(o.identifier(), "a`b");
        let o = Object::named(Function, "set_updated_at()");
        assert_eq!(o.identifier(), "set_updated_at");
        assert_eq!(o.label(), "function set_updated_at()");
        let o = Object::named(Function, "\"Odd(name\"(integer)");
        assert_eq!(
            (o.identifier(), o.display_name()),
            ("Odd(name".into(), "Odd(name(integer)".into())
        );
    }
}
