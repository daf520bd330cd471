//! The rendered SQL, split into statements and classified: what each statement does to which
//! table, as far as the lint rules need to know. Hand-written rather than a full parser: the SQL
//! it reads is mostly what SeaQuery renders (one shape per operation and backend) plus the raw
//! SQL migrations send, and a statement it does not recognise is [`Kind::Other`], which no rule
//! flags.

/// One token of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A bare word (keyword or identifier), as written.
    Word(String),
    /// A quoted identifier (`"x"` or `` `x` ``), unquoted.
    Quoted(String),
    /// A string literal or a dollar-quoted body, without its quotes.
    Str(String),
    /// A number.
    Num(String),
    /// Any other character (`(`, `,`, `=`, `:`…).
    Punct(char),
}

impl Tok {
    fn is(&self, keyword: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    fn is_punct(&self, c: char) -> bool {
        *self == Tok::Punct(c)
    }

    /// The identifier this token names: a bare word in lower case (as unquoted names fold on
    /// PostgreSQL), a quoted one as written.
    fn ident(&self) -> Option<String> {
        match self {
            Tok::Word(w) => Some(w.to_ascii_lowercase()),
            Tok::Quoted(q) => Some(q.clone()),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Tok::Word(w) | Tok::Num(w) => w.clone(),
            Tok::Quoted(q) => format!("\"{q}\""),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Punct(c) => c.to_string(),
        }
    }
}

/// Splits a recorded statement (which may hold several, as raw SQL often does) at the
/// semicolons outside quotes, dollar quotes and comments; empty pieces are dropped.
pub fn split(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' | '`' => {
                let end = quoted_end(&chars, i, c);
                current.extend(&chars[i..end]);
                i = end;
                continue;
            }
            '$' => {
                if let Some(tag_end) = dollar_tag(&chars, i) {
                    let tag: String = chars[i..tag_end].iter().collect();
                    let body_end = find(&chars, tag_end, &tag)
                        .map_or(chars.len(), |at| at + tag.chars().count());
                    current.extend(&chars[i..body_end]);
                    i = body_end;
                    continue;
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i = find(&chars, i + 2, "*/").map_or(chars.len(), |at| at + 2);
                current.push(' ');
                continue;
            }
            ';' => {
                push_piece(&mut out, &mut current);
                i += 1;
                continue;
            }
            _ => {}
        }
        current.push(c);
        i += 1;
    }
    push_piece(&mut out, &mut current);
    out
}

fn push_piece(out: &mut Vec<String>, current: &mut String) {
    let piece = current.trim();
    if !piece.is_empty() {
        out.push(piece.to_owned());
    }
    current.clear();
}

/// Where the quoted run starting at `start` ends (one past its closing quote); a doubled
/// quote stays inside.
fn quoted_end(chars: &[char], start: usize, quote: char) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        if chars[i] == '\\' && quote == '\'' {
            i += 1;
        }
        i += 1;
    }
    chars.len()
}

/// The end of a dollar-quote tag (`$$`, `$body$`) starting at `start`.
fn dollar_tag(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
        if i == start + 1 && chars[i].is_ascii_digit() {
            return None; // `$1`, a placeholder
        }
        i += 1;
    }
    (chars.get(i) == Some(&'$')).then_some(i + 1)
}

fn find(chars: &[char], from: usize, needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    (from..chars.len()).find(|&at| chars[at..].starts_with(&needle))
}

fn tokenize(sql: &str) -> Vec<Tok> {
    let chars: Vec<char> = sql.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' || c == '`' {
            let end = quoted_end(&chars, i, c);
            let inner: String = chars[i + 1..end.saturating_sub(1).max(i + 1)]
                .iter()
                .collect();
            let doubled = format!("{c}{c}");
            let inner = inner.replace(&doubled, &c.to_string());
            toks.push(if c == '\'' {
                Tok::Str(inner)
            } else {
                Tok::Quoted(inner)
            });
            i = end;
        } else if c == '$'
            && let Some(tag_end) = dollar_tag(&chars, i)
        {
            let tag: String = chars[i..tag_end].iter().collect();
            let body_end = find(&chars, tag_end, &tag).unwrap_or(chars.len());
            toks.push(Tok::Str(chars[tag_end..body_end].iter().collect()));
            i = (body_end + tag.chars().count()).min(chars.len());
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            toks.push(Tok::Word(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            toks.push(Tok::Num(chars[start..i].iter().collect()));
        } else {
            toks.push(Tok::Punct(c));
            i += 1;
        }
    }
    toks
}

/// A column as a `CREATE TABLE`, `ADD COLUMN`, `MODIFY` or `CHANGE` defines it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnDef {
    /// Its name.
    pub name: String,
    /// Its type, normalised (lower case, synonyms folded: `int4` is `integer`).
    pub ty: String,
    /// `NOT NULL` (or `PRIMARY KEY`, which implies it).
    pub not_null: bool,
    /// The default expression, as written.
    pub default: Option<String>,
    /// `GENERATED … AS IDENTITY`, `AUTO_INCREMENT`, a serial type: the database fills it.
    pub generated_value: bool,
    /// A stored generated column (`… AS (expr) STORED`).
    pub stored_generated: bool,
    /// An inline `REFERENCES`.
    pub references: bool,
    /// An inline `CHECK`.
    pub check: bool,
    /// An inline `UNIQUE` or `PRIMARY KEY`.
    pub unique: bool,
}

/// A constraint an `ALTER TABLE … ADD` adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    /// `FOREIGN KEY`.
    ForeignKey,
    /// `CHECK`.
    Check,
    /// `UNIQUE`.
    Unique,
    /// `PRIMARY KEY`.
    PrimaryKey,
    /// `EXCLUDE` and anything else.
    Other,
}

/// One action of an `ALTER TABLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `ADD [COLUMN]`.
    AddColumn(ColumnDef),
    /// `DROP [COLUMN]`.
    DropColumn(String),
    /// PostgreSQL `ALTER COLUMN c [SET DATA] TYPE t [USING …]`.
    AlterType {
        /// The column.
        column: String,
        /// The new type, normalised.
        ty: String,
        /// Whether a `USING` expression converts the values.
        using: bool,
    },
    /// `ALTER COLUMN c SET NOT NULL`.
    SetNotNull(String),
    /// `ALTER COLUMN c DROP NOT NULL`.
    DropNotNull(String),
    /// `ALTER COLUMN c SET DEFAULT …` / `DROP DEFAULT`.
    Default(String),
    /// MySQL `MODIFY [COLUMN] def` and `CHANGE [COLUMN] old def`.
    Modify {
        /// The column's name before.
        column: String,
        /// Its definition after (the name in it may differ, for `CHANGE`).
        def: ColumnDef,
    },
    /// `ADD [CONSTRAINT name] …`.
    AddConstraint {
        /// Its name, if given.
        name: Option<String>,
        /// What it is.
        kind: ConstraintKind,
        /// `NOT VALID`.
        not_valid: bool,
        /// `… USING INDEX idx`.
        using_index: bool,
        /// For a `CHECK (c IS NOT NULL)`, the column `c`.
        not_null_column: Option<String>,
    },
    /// `VALIDATE CONSTRAINT name`.
    ValidateConstraint(String),
    /// `DROP CONSTRAINT`, `DROP FOREIGN KEY`, `DROP CHECK`.
    DropConstraint(String),
    /// MySQL `DROP PRIMARY KEY`.
    DropPrimaryKey,
    /// MySQL `ADD INDEX/KEY/UNIQUE/FULLTEXT/SPATIAL …` (without `CONSTRAINT`).
    AddIndex,
    /// MySQL `DROP INDEX/KEY name`.
    DropIndex(String),
    /// `RENAME COLUMN a TO b` (or MySQL `CHANGE` that only renames is a [`Action::Modify`]).
    RenameColumn {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `RENAME [TO] name`.
    RenameTo(String),
    /// MySQL `ALGORITHM=…`, upper case.
    Algorithm(String),
    /// MySQL `LOCK=…`, upper case.
    Lock(String),
    /// MySQL `CONVERT TO CHARACTER SET`.
    Charset,
    /// MySQL `ENGINE=…`.
    Engine,
    /// Anything else, as written.
    Other(String),
}

/// What a statement does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `CREATE TABLE`.
    CreateTable {
        /// The table.
        table: String,
        /// Its columns, as far as they could be read.
        columns: Vec<ColumnDef>,
    },
    /// `DROP TABLE`.
    DropTable {
        /// The tables dropped.
        tables: Vec<String>,
    },
    /// `CREATE [UNIQUE] INDEX [CONCURRENTLY]`.
    CreateIndex {
        /// The index's name, if given.
        name: Option<String>,
        /// The indexed table.
        table: String,
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `DROP INDEX [CONCURRENTLY]`.
    DropIndex {
        /// The indexes dropped.
        names: Vec<String>,
        /// The table (MySQL `DROP INDEX i ON t`).
        table: Option<String>,
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `ALTER TABLE`.
    AlterTable {
        /// The table.
        table: String,
        /// Its actions, in order.
        actions: Vec<Action>,
    },
    /// MySQL `RENAME TABLE a TO b[, …]`.
    RenameTables {
        /// Each rename, old name first.
        pairs: Vec<(String, String)>,
    },
    /// PostgreSQL `ALTER TYPE t ADD VALUE …`.
    AddEnumValue {
        /// The type.
        type_name: String,
    },
    /// `SET [SESSION|LOCAL] name = value` (name in lower case).
    Set {
        /// The setting.
        name: String,
        /// Its value, as written, without quotes.
        value: String,
    },
    /// SQLite `PRAGMA name [= value]` (name in lower case).
    Pragma {
        /// The pragma.
        name: String,
        /// Its value, in lower case.
        value: Option<String>,
    },
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK`.
    Rollback,
    /// `INSERT`, `UPDATE`, `DELETE`, `REPLACE`, `MERGE`.
    Dml {
        /// The table written to, when it could be read.
        table: Option<String>,
    },
    /// `TRUNCATE`.
    Truncate {
        /// The tables emptied.
        tables: Vec<String>,
    },
    /// Anything else (`SELECT`, `CREATE FUNCTION`, `GRANT`…).
    Other,
}

impl Kind {
    /// Whether this is DDL on a table that takes a lock on it (what a lock timeout guards).
    pub fn table_ddl(&self) -> Option<&str> {
        match self {
            Kind::AlterTable { table, .. } => Some(table),
            Kind::CreateIndex { table, .. } => Some(table),
            Kind::DropTable { tables } | Kind::Truncate { tables } => {
                tables.first().map(String::as_str)
            }
            _ => None,
        }
    }
}

/// One statement, as sent and as classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its SQL, trimmed.
    pub sql: String,
    /// What it does.
    pub kind: Kind,
}

/// Splits and classifies the statements of a rendering.
pub fn statements(recorded: &[String]) -> Vec<Statement> {
    recorded
        .iter()
        .flat_map(|s| split(s))
        .map(|sql| Statement {
            kind: classify(&sql),
            sql,
        })
        .collect()
}

/// What one statement does.
pub fn classify(sql: &str) -> Kind {
    let toks = tokenize(sql);
    let mut p = Parser { toks: &toks, at: 0 };
    p.statement().unwrap_or(Kind::Other)
}

struct Parser<'a> {
    toks: &'a [Tok],
    at: usize,
}

/// Words that end a column's type and start its constraints.
const COLUMN_WORDS: &[&str] = &[
    "NOT",
    "NULL",
    "DEFAULT",
    "PRIMARY",
    "UNIQUE",
    "CHECK",
    "REFERENCES",
    "CONSTRAINT",
    "COLLATE",
    "COMMENT",
    "GENERATED",
    "AUTO_INCREMENT",
    "AUTOINCREMENT",
    "ON",
    "AS",
    "CHARACTER",
    "CHARSET",
    "FIRST",
    "AFTER",
    "KEY",
    "INVISIBLE",
    "VISIBLE",
];

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.at)
    }

    fn peek_is(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|t| t.is(keyword))
    }

    fn eat(&mut self, keyword: &str) -> bool {
        if self.peek_is(keyword) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_all(&mut self, keywords: &[&str]) -> bool {
        let start = self.at;
        for k in keywords {
            if !self.eat(k) {
                self.at = start;
                return false;
            }
        }
        true
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek().is_some_and(|t| t.is_punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A possibly qualified name (`"s"."t"`): its last part.
    fn name(&mut self) -> Option<String> {
        let mut last = self.peek()?.ident()?;
        self.at += 1;
        while self.peek().is_some_and(|t| t.is_punct('.')) {
            let next = self.toks.get(self.at + 1).and_then(Tok::ident)?;
            last = next;
            self.at += 2;
        }
        Some(last)
    }

    fn statement(&mut self) -> Option<Kind> {
        let first = self.peek()?;
        let Tok::Word(word) = first else {
            return None;
        };
        self.at += 1;
        match word.to_ascii_uppercase().as_str() {
            "CREATE" => self.create(),
            "DROP" => self.drop(),
            "ALTER" => self.alter(),
            "RENAME" => self.rename_tables(),
            "SET" => self.set(),
            "PRAGMA" => self.pragma(),
            "BEGIN" | "START" => Some(Kind::Begin),
            "COMMIT" | "END" => Some(Kind::Commit),
            "ROLLBACK" => Some(Kind::Rollback),
            "INSERT" | "REPLACE" => {
                self.eat("IGNORE");
                self.eat("INTO");
                Some(Kind::Dml { table: self.name() })
            }
            "UPDATE" => {
                self.eat("ONLY");
                Some(Kind::Dml { table: self.name() })
            }
            "DELETE" => {
                self.eat("FROM");
                self.eat("ONLY");
                Some(Kind::Dml { table: self.name() })
            }
            "MERGE" => {
                self.eat("INTO");
                Some(Kind::Dml { table: self.name() })
            }
            "TRUNCATE" => {
                self.eat("TABLE");
                self.eat("ONLY");
                Some(Kind::Truncate {
                    tables: self.name_list(),
                })
            }
            _ => None,
        }
    }

    fn name_list(&mut self) -> Vec<String> {
        let mut names = Vec::new();
        while let Some(n) = self.name() {
            names.push(n);
            if !self.eat_punct(',') {
                break;
            }
        }
        names
    }

    fn create(&mut self) -> Option<Kind> {
        self.eat_all(&["OR", "REPLACE"]);
        let unique = self.eat("UNIQUE");
        self.eat("FULLTEXT");
        self.eat("SPATIAL");
        if self.eat("INDEX") {
            let concurrently = self.eat("CONCURRENTLY");
            self.eat_all(&["IF", "NOT", "EXISTS"]);
            let name = if self.peek_is("ON") {
                None
            } else {
                self.name()
            };
            if !self.eat("ON") {
                return None;
            }
            self.eat("ONLY");
            let _ = unique;
            return Some(Kind::CreateIndex {
                name,
                table: self.name()?,
                concurrently,
            });
        }
        self.eat("TEMPORARY");
        self.eat("TEMP");
        self.eat("UNLOGGED");
        if !self.eat("TABLE") {
            return None;
        }
        self.eat_all(&["IF", "NOT", "EXISTS"]);
        let table = self.name()?;
        let mut columns = Vec::new();
        if self.eat_punct('(') {
            let end = self.closing(self.at - 1);
            for element in split_commas(&self.toks[self.at..end]) {
                let starts_constraint = element.first().is_some_and(|t| {
                    [
                        "CONSTRAINT",
                        "PRIMARY",
                        "UNIQUE",
                        "CHECK",
                        "FOREIGN",
                        "EXCLUDE",
                        "KEY",
                        "INDEX",
                        "FULLTEXT",
                        "SPATIAL",
                        "LIKE",
                    ]
                    .iter()
                    .any(|k| t.is(k))
                });
                if !starts_constraint && let Some(def) = column_def(element) {
                    columns.push(def);
                }
            }
        }
        Some(Kind::CreateTable { table, columns })
    }

    /// The index of the `)` closing the `(` at `open`.
    fn closing(&self, open: usize) -> usize {
        let mut depth = 0usize;
        for (i, t) in self.toks.iter().enumerate().skip(open) {
            if t.is_punct('(') {
                depth += 1;
            } else if t.is_punct(')') {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
        }
        self.toks.len()
    }

    fn drop(&mut self) -> Option<Kind> {
        if self.eat("TABLE") {
            self.eat_all(&["IF", "EXISTS"]);
            return Some(Kind::DropTable {
                tables: self.name_list(),
            });
        }
        if self.eat("INDEX") {
            let concurrently = self.eat("CONCURRENTLY");
            self.eat_all(&["IF", "EXISTS"]);
            let names = self.name_list();
            let table = if self.eat("ON") { self.name() } else { None };
            return Some(Kind::DropIndex {
                names,
                table,
                concurrently,
            });
        }
        None
    }

    fn rename_tables(&mut self) -> Option<Kind> {
        if !self.eat("TABLE") {
            return None;
        }
        let mut pairs = Vec::new();
        loop {
            let from = self.name()?;
            if !self.eat("TO") {
                return None;
            }
            pairs.push((from, self.name()?));
            if !self.eat_punct(',') {
                break;
            }
        }
        Some(Kind::RenameTables { pairs })
    }

    fn set(&mut self) -> Option<Kind> {
        if !self.eat("SESSION") && !self.eat("LOCAL") {
            self.eat("GLOBAL");
        }
        // MySQL's `@@session.x`.
        while self.eat_punct('@') {}
        if self.eat("SESSION") {
            self.eat_punct('.');
        }
        let name = self.name()?;
        if !self.eat_punct('=') {
            self.eat("TO");
        }
        let value: Vec<String> = self.toks[self.at..]
            .iter()
            .map(|t| match t {
                Tok::Str(s) => s.clone(),
                other => other.text(),
            })
            .collect();
        Some(Kind::Set {
            name,
            value: value.join(""),
        })
    }

    fn pragma(&mut self) -> Option<Kind> {
        let name = self.name()?;
        let value = if self.eat_punct('=') || self.eat_punct('(') {
            self.peek().map(|t| match t {
                Tok::Str(s) => s.to_ascii_lowercase(),
                other => other.text().to_ascii_lowercase(),
            })
        } else {
            None
        };
        Some(Kind::Pragma { name, value })
    }

    fn alter(&mut self) -> Option<Kind> {
        if self.eat("TYPE") {
            let type_name = self.name()?;
            return self
                .eat_all(&["ADD", "VALUE"])
                .then_some(Kind::AddEnumValue { type_name });
        }
        self.eat("ONLINE");
        self.eat("IGNORE");
        if !self.eat("TABLE") {
            return None;
        }
        self.eat_all(&["IF", "EXISTS"]);
        self.eat("ONLY");
        let table = self.name()?;
        let actions = split_commas(&self.toks[self.at..])
            .into_iter()
            .map(action)
            .collect();
        Some(Kind::AlterTable { table, actions })
    }
}

/// Splits tokens at the commas outside parentheses.
fn split_commas(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => depth = depth.saturating_sub(1),
            Tok::Punct(',') if depth == 0 => {
                out.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < toks.len() {
        out.push(&toks[start..]);
    }
    out.retain(|s| !s.is_empty());
    out
}

fn text_of(toks: &[Tok]) -> String {
    toks.iter().map(Tok::text).collect::<Vec<_>>().join(" ")
}

/// One action of an `ALTER TABLE`.
fn action(toks: &[Tok]) -> Action {
    let other = || Action::Other(text_of(toks));
    let mut p = Parser { toks, at: 0 };
    if p.eat("ADD") {
        if p.eat("CONSTRAINT") {
            let name = if p.peek_is("FOREIGN")
                || p.peek_is("CHECK")
                || p.peek_is("UNIQUE")
                || p.peek_is("PRIMARY")
            {
                None
            } else {
                p.name()
            };
            return constraint(name, &toks[p.at..]);
        }
        if ["FOREIGN", "CHECK", "PRIMARY", "EXCLUDE"]
            .iter()
            .any(|k| p.peek_is(k))
        {
            return constraint(None, &toks[p.at..]);
        }
        if p.peek_is("UNIQUE") {
            // PostgreSQL's `ADD UNIQUE (c)` is a constraint; MySQL's `ADD UNIQUE [KEY] name (c)`
            // is an index too, and is read the same way.
            return constraint(None, &toks[p.at..]);
        }
        if ["INDEX", "KEY", "FULLTEXT", "SPATIAL"]
            .iter()
            .any(|k| p.peek_is(k))
        {
            return Action::AddIndex;
        }
        p.eat("COLUMN");
        p.eat_all(&["IF", "NOT", "EXISTS"]);
        return column_def(&toks[p.at..]).map_or_else(other, Action::AddColumn);
    }
    if p.eat("DROP") {
        if p.eat("CONSTRAINT") || p.eat_all(&["FOREIGN", "KEY"]) || p.eat("CHECK") {
            p.eat_all(&["IF", "EXISTS"]);
            return p.name().map_or_else(other, Action::DropConstraint);
        }
        if p.eat_all(&["PRIMARY", "KEY"]) {
            return Action::DropPrimaryKey;
        }
        if p.eat("INDEX") || p.eat("KEY") {
            p.eat_all(&["IF", "EXISTS"]);
            return p.name().map_or_else(other, Action::DropIndex);
        }
        p.eat("COLUMN");
        p.eat_all(&["IF", "EXISTS"]);
        return p.name().map_or_else(other, Action::DropColumn);
    }
    if p.eat("ALTER") {
        p.eat("COLUMN");
        let Some(column) = p.name() else {
            return other();
        };
        if p.eat_all(&["SET", "NOT", "NULL"]) {
            return Action::SetNotNull(column);
        }
        if p.eat_all(&["DROP", "NOT", "NULL"]) {
            return Action::DropNotNull(column);
        }
        if p.eat_all(&["SET", "DEFAULT"]) || p.eat_all(&["DROP", "DEFAULT"]) {
            return Action::Default(column);
        }
        p.eat_all(&["SET", "DATA"]);
        if p.eat("TYPE") {
            let rest = &toks[p.at..];
            let end = rest
                .iter()
                .position(|t| t.is("USING") || t.is("COLLATE"))
                .unwrap_or(rest.len());
            return Action::AlterType {
                column,
                ty: normalise_type(&rest[..end]),
                using: rest.iter().any(|t| t.is("USING")),
            };
        }
        return other();
    }
    if p.eat("MODIFY") {
        p.eat("COLUMN");
        return column_def(&toks[p.at..]).map_or_else(other, |def| Action::Modify {
            column: def.name.clone(),
            def,
        });
    }
    if p.eat("CHANGE") {
        p.eat("COLUMN");
        let Some(column) = p.name() else {
            return other();
        };
        return column_def(&toks[p.at..]).map_or_else(other, |def| Action::Modify { column, def });
    }
    if p.eat("RENAME") {
        if p.eat("COLUMN") {
            let Some(from) = p.name() else {
                return other();
            };
            p.eat("TO");
            return p
                .name()
                .map_or_else(other, |to| Action::RenameColumn { from, to });
        }
        if p.eat("INDEX") || p.eat("KEY") || p.eat("CONSTRAINT") {
            return other();
        }
        if !p.eat("TO") {
            p.eat("AS");
        }
        // PostgreSQL's `RENAME a TO b` renames a column.
        if let Some(first) = p.name() {
            if p.eat("TO")
                && let Some(to) = p.name()
            {
                return Action::RenameColumn { from: first, to };
            }
            return Action::RenameTo(first);
        }
        return other();
    }
    if p.eat("VALIDATE") && p.eat("CONSTRAINT") {
        return p.name().map_or_else(other, Action::ValidateConstraint);
    }
    if p.eat("ALGORITHM") {
        p.eat_punct('=');
        return Action::Algorithm(
            p.peek()
                .map(|t| t.text().to_ascii_uppercase())
                .unwrap_or_default(),
        );
    }
    if p.eat("LOCK") {
        p.eat_punct('=');
        return Action::Lock(
            p.peek()
                .map(|t| t.text().to_ascii_uppercase())
                .unwrap_or_default(),
        );
    }
    // `CONVERT TO CHARACTER SET` rewrites every text column; a table's `[DEFAULT] CHARACTER
    // SET` only applies to columns added later (instant), so it is not this.
    if p.eat("CONVERT") {
        return Action::Charset;
    }
    if p.eat("ENGINE") {
        return Action::Engine;
    }
    other()
}

/// An added constraint; `toks` starts at its kind.
fn constraint(name: Option<String>, toks: &[Tok]) -> Action {
    let first = toks.first();
    let kind = match first {
        Some(t) if t.is("FOREIGN") => ConstraintKind::ForeignKey,
        Some(t) if t.is("CHECK") => ConstraintKind::Check,
        Some(t) if t.is("UNIQUE") => ConstraintKind::Unique,
        Some(t) if t.is("PRIMARY") => ConstraintKind::PrimaryKey,
        _ => ConstraintKind::Other,
    };
    let not_valid = toks.windows(2).any(|w| w[0].is("NOT") && w[1].is("VALID"));
    let using_index = toks
        .windows(2)
        .any(|w| w[0].is("USING") && w[1].is("INDEX"));
    let not_null_column = (kind == ConstraintKind::Check)
        .then(|| not_null_check(&toks[1..]))
        .flatten();
    Action::AddConstraint {
        name,
        kind,
        not_valid,
        using_index,
        not_null_column,
    }
}

/// For `(c IS NOT NULL)`, the column `c`.
fn not_null_check(toks: &[Tok]) -> Option<String> {
    let inner: Vec<&Tok> = toks
        .iter()
        .filter(|t| !t.is_punct('(') && !t.is_punct(')'))
        .collect();
    match inner.as_slice() {
        [col, is, not, null, rest @ ..]
            if is.is("IS")
                && not.is("NOT")
                && null.is("NULL")
                && rest.iter().all(|t| t.is("NOT") || t.is("VALID")) =>
        {
            col.ident()
        }
        _ => None,
    }
}

/// A column definition: name, type, constraints.
fn column_def(toks: &[Tok]) -> Option<ColumnDef> {
    let name = toks.first()?.ident()?;
    let rest = &toks[1..];
    let type_end = rest
        .iter()
        .position(|t| COLUMN_WORDS.iter().any(|k| t.is(k)))
        .unwrap_or(rest.len());
    let ty = normalise_type(&rest[..type_end]);
    if ty.is_empty() {
        return None;
    }
    let mut def = ColumnDef {
        generated_value: ty.contains("serial"),
        name,
        ty,
        ..ColumnDef::default()
    };
    let cons = &rest[type_end..];
    let mut i = 0;
    while i < cons.len() {
        let t = &cons[i];
        if t.is("NOT") && cons.get(i + 1).is_some_and(|n| n.is("NULL")) {
            def.not_null = true;
            i += 2;
            continue;
        }
        if t.is("PRIMARY") {
            def.not_null = true;
            def.unique = true;
        } else if t.is("UNIQUE") {
            def.unique = true;
        } else if t.is("REFERENCES") {
            def.references = true;
        } else if t.is("CHECK") {
            def.check = true;
        } else if t.is("AUTO_INCREMENT") || t.is("AUTOINCREMENT") || t.is("IDENTITY") {
            def.generated_value = true;
        } else if t.is("STORED") || t.is("PERSISTENT") {
            def.stored_generated = true;
        } else if t.is("DEFAULT") {
            let start = i + 1;
            let mut end = start;
            let mut depth = 0usize;
            while end < cons.len() {
                let c = &cons[end];
                if c.is_punct('(') {
                    depth += 1;
                } else if c.is_punct(')') {
                    depth = depth.saturating_sub(1);
                } else if depth == 0
                    && end > start
                    && COLUMN_WORDS.iter().any(|k| c.is(k))
                    && !(c.is("NULL") && cons[end - 1].is("NOT"))
                {
                    break;
                }
                end += 1;
            }
            def.default = Some(text_of(&cons[start..end]));
            i = end;
            continue;
        }
        i += 1;
    }
    if def.stored_generated || def.generated_value {
        // A generated or identity column is filled by the database, never by a default.
        def.not_null = def.not_null && !def.stored_generated;
    }
    Some(def)
}

/// A type as written, normalised: lower case, no spaces inside parentheses, synonyms folded.
fn normalise_type(toks: &[Tok]) -> String {
    let mut out = String::new();
    for t in toks {
        let piece = match t {
            Tok::Word(w) => w.to_ascii_lowercase(),
            Tok::Quoted(q) => q.to_ascii_lowercase(),
            other => other.text(),
        };
        let glue = out.is_empty()
            || out.ends_with('(')
            || out.ends_with(',')
            || piece == "("
            || piece == ")"
            || piece == ","
            || piece == "["
            || piece == "]";
        if !glue {
            out.push(' ');
        }
        out.push_str(&piece);
    }
    let folded = [
        ("character varying", "varchar"),
        ("timestamp with time zone", "timestamptz"),
        ("timestamp without time zone", "timestamp"),
        ("double precision", "double"),
        ("int4", "integer"),
        ("int8", "bigint"),
        ("int2", "smallint"),
        ("bool", "boolean"),
        ("decimal", "numeric"),
    ];
    let mut ty = out;
    for (from, to) in folded {
        if ty == from || ty.starts_with(&format!("{from}(")) || ty.starts_with(&format!("{from} "))
        {
            ty = format!("{to}{}", &ty[from.len()..]);
        }
    }
    if ty == "int" || ty.starts_with("int(") {
        ty = format!("integer{}", &ty[3..]);
    }
    ty
}

/// A type's base name and its parenthesised arguments: `varchar(20)` is `("varchar", [20])`.
pub fn type_parts(ty: &str) -> (&str, Vec<u64>) {
    match ty.find('(') {
        Some(open) => {
            let close = ty[open..].find(')').map_or(ty.len(), |c| open + c);
            let args = ty[open + 1..close]
                .split(',')
                .filter_map(|a| a.trim().parse().ok())
                .collect();
            (&ty[..open], args)
        }
        None => (ty, Vec::new()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_semicolons_outside_quotes_and_dollar_bodies() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ BEGIN; RETURN 1; END $$ LANGUAGE plpgsql; \
                   INSERT INTO t VALUES ('a;b'); -- trailing; comment\n SELECT 1";
        let pieces = split(sql);
        assert_eq!(pieces.len(), 3, "{pieces:?}");
        assert!(pieces[1].contains("'a;b'"));
    }

    #[test]
    fn a_seaquery_index_is_read_with_its_table() {
        assert_eq!(
            classify(r#"CREATE INDEX "idx_a" ON "public"."t" ("a")"#),
            Kind::CreateIndex {
                name: Some("idx_a".into()),
                table: "t".into(),
                concurrently: false
            }
        );
        assert_eq!(
            classify("create unique index concurrently if not exists i on t (a)"),
            Kind::CreateIndex {
                name: Some("i".into()),
                table: "t".into(),
                concurrently: true
            }
        );
    }

    #[test]
    fn alter_table_actions_are_read_one_by_one() {
        let Kind::AlterTable { table, actions } = classify(
            r#"ALTER TABLE "t" ADD COLUMN "c" integer NOT NULL DEFAULT 0, ALTER COLUMN "d" TYPE bigint, ALTER COLUMN "e" SET NOT NULL, ADD CONSTRAINT "k" CHECK ("e" IS NOT NULL) NOT VALID"#,
        ) else {
            panic!("not an alter");
        };
        assert_eq!(table, "t");
        let Action::AddColumn(c) = &actions[0] else {
            panic!("{actions:?}")
        };
        assert!(c.not_null);
        assert_eq!(c.default.as_deref(), Some("0"));
        assert_eq!(
            actions[1],
            Action::AlterType {
                column: "d".into(),
                ty: "bigint".into(),
                using: false
            }
        );
        assert_eq!(actions[2], Action::SetNotNull("e".into()));
        assert_eq!(
            actions[3],
            Action::AddConstraint {
                name: Some("k".into()),
                kind: ConstraintKind::Check,
                not_valid: true,
                using_index: false,
                not_null_column: Some("e".into())
            }
        );
    }

    #[test]
    fn mysql_modify_and_change_carry_the_new_definition() {
        let Kind::AlterTable { actions, .. } = classify(
            "ALTER TABLE `t` MODIFY COLUMN `a` bigint NOT NULL, CHANGE `b` `c` varchar(20), ALGORITHM=INPLACE",
        ) else {
            panic!("not an alter");
        };
        let Action::Modify { column, def } = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!((column.as_str(), def.ty.as_str()), ("a", "bigint"));
        let Action::Modify { column, def } = &actions[1] else {
            panic!("{actions:?}")
        };
        assert_eq!((column.as_str(), def.name.as_str()), ("b", "c"));
        assert_eq!(actions[2], Action::Algorithm("INPLACE".into()));
    }

    #[test]
    fn types_fold_their_synonyms() {
        let ty = |s: &str| normalise_type(&tokenize(s));
        assert_eq!(ty("character varying ( 20 )"), "varchar(20)");
        assert_eq!(ty("INT4"), "integer");
        assert_eq!(ty("int(11)"), "integer(11)");
        assert_eq!(ty("bool"), "boolean");
        assert_eq!(ty("boolean"), "boolean");
        assert_eq!(ty("timestamp with time zone"), "timestamptz");
        assert_eq!(type_parts("numeric(10,2)"), ("numeric", vec![10, 2]));
    }

    #[test]
    fn settings_and_pragmas_are_read() {
        assert_eq!(
            classify("SET LOCAL lock_timeout = '5s'"),
            Kind::Set {
                name: "lock_timeout".into(),
                value: "5s".into()
            }
        );
        assert_eq!(
            classify("PRAGMA foreign_keys = OFF"),
            Kind::Pragma {
                name: "foreign_keys".into(),
                value: Some("off".into())
            }
        );
        assert_eq!(
            classify("RENAME TABLE `a` TO `b`"),
            Kind::RenameTables {
                pairs: vec![("a".into(), "b".into())]
            }
        );
    }
}
