//! Checksums over the SQL a migration renders, not over its source file: reformatting a file or
//! checking it out with CRLF line endings changes nothing (the failure mode of checksumming raw
//! bytes, launchbadge/sqlx#2659), while any change to what the migration executes does.

use sha2::{Digest, Sha256};

/// Hex SHA-256 of the normalised statements: each statement's line endings folded to `\n`,
/// trailing white space and semicolons trimmed, statements separated by a NUL byte so that
/// moving text between two statements changes the sum.
pub fn checksum(statements: &[String]) -> String {
    let mut hasher = Sha256::new();
    for statement in statements {
        let normalised = statement.replace("\r\n", "\n");
        let trimmed = normalised.trim().trim_end_matches(';').trim_end();
        hasher.update(trimmed.as_bytes());
        hasher.update([0u8]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_trailing_semicolons_do_not_change_the_checksum() {
        let a = checksum(&["CREATE TABLE t (\n id int\n);".to_owned()]);
        let b = checksum(&["CREATE TABLE t (\r\n id int\r\n)  ".to_owned()]);
        assert_eq!(a, b);
    }

    #[test]
    fn a_changed_statement_changes_the_checksum() {
        let a = checksum(&["CREATE TABLE t (id int)".to_owned()]);
        let b = checksum(&["CREATE TABLE t (id bigint)".to_owned()]);
        assert_ne!(a, b);
    }

    #[test]
    fn moving_text_between_statements_changes_the_checksum() {
        let a = checksum(&["SELECT 1".to_owned(), "SELECT 2".to_owned()]);
        let b = checksum(&["SELECT 1SELECT 2".to_owned()]);
        assert_ne!(a, b);
    }
}
