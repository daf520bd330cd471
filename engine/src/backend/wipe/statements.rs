//! What a project's migrations create, read from the SQL they run: a small tokenizer that finds
//! the objects `CREATE`, `DROP` and renames name.

use std::collections::BTreeSet;

use super::objects::{Object, ObjectKind};

/// The objects a project's migrations create, read from the SQL they run.
///
/// An object counts as created by the migrations when it is what a `CREATE` statement creates
/// (or what a rename renames something to) in the `up` SQL the code's migrations render, or in
/// the `down` SQL the ledger stored when migrations were applied; in the stored SQL, what a
/// `DROP` drops counts too, since a `down` drops what its `up` created (and the ledger keeps the
/// `down` of migrations that are no longer in the code). Names are compared without quotes,
/// schema qualifiers or signatures, ignoring ASCII case, and with their kind (a table and a view
/// of one name are two objects).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationObjects {
    names: BTreeSet<(ObjectKind, String)>,
}

impl MigrationObjects {
    /// From `up_sql`, the statements the code's migrations render for their `up`, and
    /// `stored_sql`, the `down` statements stored in the ledger.
    pub fn from_sql<A: AsRef<str>, B: AsRef<str>>(up_sql: &[A], stored_sql: &[B]) -> Self {
        let mut names = BTreeSet::new();
        for sql in up_sql {
            for (verb, kind, name) in statement_targets(sql.as_ref()) {
                if verb != Verb::Drop {
                    names.insert((kind, name.to_ascii_lowercase()));
                }
            }
        }
        for sql in stored_sql {
            for (_, kind, name) in statement_targets(sql.as_ref()) {
                names.insert((kind, name.to_ascii_lowercase()));
            }
        }
        Self { names }
    }

    /// Whether the migrations create `object`.
    pub fn creates(&self, object: &Object) -> bool {
        self.names
            .contains(&(object.kind, object.identifier().to_ascii_lowercase()))
    }
}

/// What a statement does to an object it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    /// `CREATE`.
    Create,
    /// `DROP`.
    Drop,
    /// The new name of a rename.
    Rename,
}

/// One token of SQL, as far as naming objects goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A keyword or a bare identifier, as written.
    Word(String),
    /// A quoted identifier (`"a"`, `` `a` ``), unquoted.
    Quoted(String),
    /// Any other character outside literals and comments.
    Punct(char),
}

/// Splits SQL into [`Token`]s, skipping whitespace, comments (`--`, `/* */`), string literals
/// (with `''` and `\'` inside) and PostgreSQL dollar-quoted bodies (`$$ … $$`, `$fn$ … $fn$`),
/// whose text is not a statement the migration runs.
fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '-' if at(i + 1) == Some('-') => {
                while at(i).is_some_and(|c| c != '\n') {
                    i += 1;
                }
            }
            '/' if at(i + 1) == Some('*') => {
                i += 2;
                while at(i).is_some() && !(at(i) == Some('*') && at(i + 1) == Some('/')) {
                    i += 1;
                }
                i += 2;
            }
            '\'' => {
                i += 1;
                while let Some(c) = at(i) {
                    match c {
                        '\\' => i += 2,
                        '\'' if at(i + 1) == Some('\'') => i += 2,
                        '\'' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            '"' | '`' => {
                let mut name = String::new();
                i += 1;
                while let Some(ch) = at(i) {
                    i += 1;
                    if ch == c {
                        if at(i) == Some(c) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    name.push(ch);
                }
                out.push(Token::Quoted(name));
            }
            '$' => {
                let mut j = i + 1;
                while at(j).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    j += 1;
                }
                let is_tag = at(j) == Some('$') && !at(i + 1).is_some_and(|c| c.is_ascii_digit());
                if !is_tag {
                    out.push(Token::Punct('$'));
                    i += 1;
                    continue;
                }
                let tag = &chars[i..=j];
                let body = j + 1;
                let end = (body..chars.len())
                    .find(|&k| chars[k..].starts_with(tag))
                    .unwrap_or(chars.len());
                i = end + tag.len();
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while at(i).is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
            c => {
                out.push(Token::Punct(c));
                i += 1;
            }
        }
    }
    out
}

/// Words that may stand between `CREATE` (or `DROP`, `ALTER`) and the kind of object.
const MODIFIERS: [&str; 14] = [
    "OR",
    "REPLACE",
    "TEMP",
    "TEMPORARY",
    "UNLOGGED",
    "GLOBAL",
    "LOCAL",
    "MATERIALIZED",
    "RECURSIVE",
    "VIRTUAL",
    "FOREIGN",
    "TRUSTED",
    "PROCEDURAL",
    "AGGREGATE",
];

/// The uppercase keyword at `i`, if a bare word is there.
fn keyword(tokens: &[Token], i: usize) -> Option<String> {
    match tokens.get(i) {
        Some(Token::Word(w)) => Some(w.to_ascii_uppercase()),
        _ => None,
    }
}

/// The kind named after the verb at `i` (past modifiers and MySQL's `DEFINER = user`,
/// `ALGORITHM = x` and `SQL SECURITY x` clauses), and the index after its keyword; `None` for
/// statements about anything else (an index, a trigger, a column).
fn kind_after(tokens: &[Token], i: usize) -> Option<(ObjectKind, usize)> {
    let mut j = i + 1;
    loop {
        let word = keyword(tokens, j)?;
        if let Some(kind) = ObjectKind::from_keyword(&word) {
            return Some((kind, j + 1));
        }
        match word.as_str() {
            w if MODIFIERS.contains(&w) => j += 1,
            "DEFINER" | "ALGORITHM" => {
                // `= value`: a word or quoted name, `user@host`, or `CURRENT_USER()`.
                j += 1;
                if tokens.get(j) == Some(&Token::Punct('=')) {
                    j += 1;
                }
                if matches!(tokens.get(j), Some(Token::Word(_) | Token::Quoted(_))) {
                    j += 1;
                }
                if tokens.get(j) == Some(&Token::Punct('@')) {
                    j += 2;
                }
                if tokens.get(j) == Some(&Token::Punct('('))
                    && tokens.get(j + 1) == Some(&Token::Punct(')'))
                {
                    j += 2;
                }
            }
            "SQL" => j += 3,
            _ => return None,
        }
    }
}

/// Skips `IF`, `NOT`, `EXISTS` and `ONLY` from `i`.
fn skip_conditions(tokens: &[Token], mut i: usize) -> usize {
    while keyword(tokens, i).is_some_and(|w| matches!(w.as_str(), "IF" | "NOT" | "EXISTS" | "ONLY"))
    {
        i += 1;
    }
    i
}

/// The name at `i` without its schema qualifiers (`"app"."tenants"` is `tenants`), and the index
/// after it.
fn name_at(tokens: &[Token], mut i: usize) -> Option<(String, usize)> {
    let part = |t: Option<&Token>| match t {
        Some(Token::Word(w) | Token::Quoted(w)) => Some(w.clone()),
        _ => None,
    };
    let mut name = part(tokens.get(i))?;
    while tokens.get(i + 1) == Some(&Token::Punct('.')) {
        let Some(next) = part(tokens.get(i + 2)) else {
            break;
        };
        name = next;
        i += 2;
    }
    Some((name, i + 1))
}

/// Every object a piece of SQL (one statement or several) creates, drops or renames something
/// to, of the kinds [`list_objects`](super::list_objects) lists, with its unquoted name.
fn statement_targets(sql: &str) -> Vec<(Verb, ObjectKind, String)> {
    let tokens = tokenize(sql);
    let mut out = Vec::new();
    // The kind of object the `ALTER` statement being read alters, for `RENAME TO`.
    let mut altering: Option<ObjectKind> = None;
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == Token::Punct(';') {
            altering = None;
            i += 1;
            continue;
        }
        let Some(word) = keyword(&tokens, i) else {
            i += 1;
            continue;
        };
        match word.as_str() {
            "CREATE" | "DROP" => {
                let verb = if word == "CREATE" {
                    Verb::Create
                } else {
                    Verb::Drop
                };
                let Some((kind, after)) = kind_after(&tokens, i) else {
                    i += 1;
                    continue;
                };
                let mut j = skip_conditions(&tokens, after);
                while let Some((name, next)) = name_at(&tokens, j) {
                    out.push((verb, kind, name));
                    j = next;
                    // `DROP TABLE a, b`: a list of names.
                    if verb == Verb::Drop && tokens.get(j) == Some(&Token::Punct(',')) {
                        j += 1;
                    } else {
                        break;
                    }
                }
                i = j.max(i + 1);
            }
            "ALTER" => {
                // `ALTER TABLE a ALTER COLUMN b …` keeps the statement's kind.
                if let Some((kind, _)) = kind_after(&tokens, i) {
                    altering = Some(kind);
                }
                i += 1;
            }
            "RENAME" => {
                match keyword(&tokens, i + 1).as_deref() {
                    // `ALTER TABLE a RENAME TO b` (PostgreSQL, SQLite, MySQL).
                    Some("TO" | "AS") => {
                        if let (Some(kind), Some((name, _))) = (altering, name_at(&tokens, i + 2)) {
                            out.push((Verb::Rename, kind, name));
                        }
                    }
                    // `RENAME TABLE a TO b, c TO d` (MySQL).
                    Some("TABLE") => {
                        let mut j = i + 2;
                        while let Some((_, after)) = name_at(&tokens, j) {
                            if keyword(&tokens, after).as_deref() != Some("TO") {
                                break;
                            }
                            let Some((name, next)) = name_at(&tokens, after + 1) else {
                                break;
                            };
                            out.push((Verb::Rename, ObjectKind::Table, name));
                            j = next;
                            if tokens.get(j) == Some(&Token::Punct(',')) {
                                j += 1;
                            } else {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(sql: &str) -> Vec<(Verb, ObjectKind, String)> {
        statement_targets(sql)
    }

    fn created(kind: ObjectKind, name: &str) -> (Verb, ObjectKind, String) {
        (Verb::Create, kind, name.to_owned())
    }

    #[test]
    fn postgres_statements_name_what_they_create() {
        use ObjectKind::*;
        assert_eq!(
            targets(
                r#"CREATE TABLE IF NOT EXISTS "tenants" ( "id" bigserial NOT NULL PRIMARY KEY, "name" varchar(100) NOT NULL )"#
            ),
            [created(Table, "tenants")]
        );
        assert_eq!(
            targets("CREATE EXTENSION IF NOT EXISTS pgcrypto"),
            [created(Extension, "pgcrypto")]
        );
        assert_eq!(
            targets(
                "CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
            ),
            [created(Function, "set_updated_at")]
        );
        assert_eq!(
            targets(r#"CREATE OR REPLACE VIEW "public"."available_timeslots" AS SELECT 1"#),
            [created(View, "available_timeslots")]
        );
        assert_eq!(
            targets("CREATE MATERIALIZED VIEW mv_daily AS SELECT 1"),
            [created(View, "mv_daily")]
        );
        assert_eq!(
            targets(r#"CREATE TYPE "booking_status" AS ENUM ('new', 'done')"#),
            [created(Type, "booking_status")]
        );
        assert_eq!(
            targets("create unlogged table Scratch (id int)"),
            [created(Table, "Scratch")]
        );
    }

    #[test]
    fn mysql_statements_name_what_they_create() {
        use ObjectKind::*;
        assert_eq!(
            targets(
                r"CREATE TABLE `users` ( `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, `note` varchar(20) DEFAULT 'it\'s' ) ENGINE=InnoDB"
            ),
            [created(Table, "users")]
        );
        assert_eq!(
            targets("CREATE DEFINER=`root`@`localhost` FUNCTION `fn_total`() RETURNS INT RETURN 1"),
            [created(Function, "fn_total")]
        );
        assert_eq!(
            targets(
                "CREATE OR REPLACE ALGORITHM=UNDEFINED DEFINER=CURRENT_USER() SQL SECURITY INVOKER VIEW `v_open` AS SELECT 1"
            ),
            [created(View, "v_open")]
        );
        assert_eq!(
            targets("CREATE PROCEDURE `app`.`archive`() BEGIN SELECT 1; END"),
            [created(Procedure, "archive")]
        );
    }

    #[test]
    fn sqlite_statements_name_what_they_create() {
        use ObjectKind::*;
        assert_eq!(
            targets(
                r#"CREATE TABLE "bookings" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT )"#
            ),
            [created(Table, "bookings")]
        );
        assert_eq!(
            targets("CREATE TEMP TABLE scratch (id)"),
            [created(Table, "scratch")]
        );
        assert_eq!(
            targets(r#"CREATE VIEW IF NOT EXISTS "daily" AS SELECT 1"#),
            [created(View, "daily")]
        );
        assert_eq!(
            targets(r#"CREATE TABLE "we""ird" (id)"#),
            [created(Table, "we\"ird")]
        );
    }

    #[test]
    fn indexes_triggers_columns_literals_bodies_and_comments_name_nothing() {
        for sql in [
            r#"CREATE INDEX "idx_bookings_status" ON "bookings" ("status")"#,
            "CREATE UNIQUE INDEX `ux` ON `t` (`a`)",
            r#"CREATE TRIGGER trg BEFORE UPDATE ON "tenants" FOR EACH ROW EXECUTE FUNCTION set_updated_at()"#,
            r#"CREATE TRIGGER IF NOT EXISTS trg AFTER UPDATE ON "x" BEGIN UPDATE "x" SET a = 1; END"#,
            "ALTER TABLE `t` DROP COLUMN `x`, DROP INDEX `i`",
            r#"ALTER TABLE "t" ALTER COLUMN "a" TYPE text"#,
            "INSERT INTO notes (body) VALUES ('CREATE TABLE not_a_table (id int)')",
            "-- CREATE TABLE commented_out (id int)\nSELECT 1",
            "/* CREATE VIEW v AS SELECT 1 */ SELECT 1",
            "SELECT $body$ CREATE TABLE inside_a_body (id int) $body$",
        ] {
            assert_eq!(targets(sql), [], "{sql}");
        }
        // A schema is an object `fresh` drops when the migrations create it.
        assert_eq!(
            targets("CREATE SCHEMA IF NOT EXISTS app"),
            [(Verb::Create, ObjectKind::Schema, "app".to_owned())]
        );
        // Inside a function body the rest of the statement still counts.
        assert_eq!(
            targets(
                "CREATE FUNCTION f() RETURNS int AS $$ CREATE TABLE no (id int) $$ LANGUAGE sql"
            ),
            [created(ObjectKind::Function, "f")]
        );
    }

    #[test]
    fn several_statements_in_one_string_each_count() {
        use ObjectKind::*;
        assert_eq!(
            targets(
                "CREATE TABLE a (id int); CREATE VIEW b AS SELECT 1;\nCREATE TABLE `c` (id int)"
            ),
            [created(Table, "a"), created(View, "b"), created(Table, "c")]
        );
    }

    #[test]
    fn renames_name_the_new_object_and_column_renames_nothing() {
        use ObjectKind::*;
        let renamed = |kind, name: &str| (Verb::Rename, kind, name.to_owned());
        assert_eq!(
            targets(r#"ALTER TABLE "old_name" RENAME TO "new_name""#),
            [renamed(Table, "new_name")]
        );
        assert_eq!(
            targets("RENAME TABLE `a` TO `b`, `c` TO `d`"),
            [renamed(Table, "b"), renamed(Table, "d")]
        );
        assert_eq!(
            targets(r#"ALTER VIEW v RENAME TO "v2""#),
            [renamed(View, "v2")]
        );
        assert_eq!(targets(r#"ALTER TABLE "t" RENAME COLUMN "a" TO "b""#), []);
        assert_eq!(targets(r#"ALTER TABLE "t" RENAME "a" TO "b""#), []);
    }

    #[test]
    fn drops_name_every_object_of_their_list() {
        use ObjectKind::*;
        let dropped = |kind, name: &str| (Verb::Drop, kind, name.to_owned());
        assert_eq!(
            targets(r#"DROP TABLE IF EXISTS "legacy_a", "public"."legacy_b" CASCADE"#),
            [dropped(Table, "legacy_a"), dropped(Table, "legacy_b")]
        );
        assert_eq!(
            targets("DROP FUNCTION IF EXISTS legacy_fn()"),
            [dropped(Function, "legacy_fn")]
        );
        assert_eq!(targets("DROP VIEW `v_old`"), [dropped(View, "v_old")]);
    }

    #[test]
    fn the_migrations_create_what_their_ups_create_and_their_stored_downs_drop() {
        let up = [
            r#"CREATE TABLE "tenants" (id int)"#.to_owned(),
            "CREATE FUNCTION set_updated_at() RETURNS trigger AS $$ $$".to_owned(),
            // An `up` that drops a table does not make that table the migrations' own.
            "DROP TABLE imported".to_owned(),
        ];
        let stored = ["DROP TABLE IF EXISTS `legacy`".to_owned()];
        let made = MigrationObjects::from_sql(&up, &stored);
        use ObjectKind::*;
        assert!(made.creates(&Object::named(Table, "tenants")));
        assert!(
            made.creates(&Object::named(Table, "\"TENANTS\"")),
            "ASCII case is ignored"
        );
        assert!(made.creates(&Object::named(Table, "`tenants`")));
        assert!(made.creates(&Object::named(Function, "set_updated_at()")));
        assert!(
            made.creates(&Object::named(Table, "legacy")),
            "dropped by a stored down"
        );
        assert!(!made.creates(&Object::named(Table, "imported")));
        assert!(
            !made.creates(&Object::named(View, "tenants")),
            "kinds must match"
        );
        assert!(!made.creates(&Object::named(Table, "\"precious\"")));
    }
}
