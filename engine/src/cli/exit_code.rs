//! The documented exit codes, named once for `migrate`, `seed` and every other command line built
//! on the engine. [`TABLE`] is the table `migrate --help` prints; README gives the same codes.

/// Success, including "nothing to do".
pub const SUCCESS: u8 = 0;
/// A migration or seed failed while running.
pub const FAILED: u8 = 1;
/// A usage, configuration or connection error.
pub const USAGE: u8 = 2;
/// The migration lock was not acquired within the timeout.
pub const LOCK_TIMEOUT: u8 = 3;
/// Refused by validation: modified, missing, failed, out of order, duplicate, irreversible.
pub const REFUSED: u8 = 4;
/// Refused by a guard: a protected environment, or a destructive command without `--yes`.
pub const GUARDED: u8 = 5;
/// `check`: something is pending (nothing wrong, but not up to date).
pub const PENDING: u8 = 6;
/// Interrupted by SIGINT.
pub const SIGINT: u8 = 130;
/// Interrupted by SIGTERM.
pub const SIGTERM: u8 = 143;

/// The exit codes as `migrate --help` prints them after the options.
pub const TABLE: &str = "\
Exit codes:
  0  success, including \"nothing to do\"
  1  a migration failed while running
  2  usage, configuration or connection error
  3  lock not acquired within the timeout
  4  refused by validation: modified, missing, failed, out of order, duplicate, irreversible,
     a plan or rollback that breaks a dependency, a down that verify finds does not undo its up,
     a schema without a ledger (see baseline), or an error-level lint finding (lint, up --lint)
  5  refused by a guard: APP_ENV=production or a protected URL without --force,
     a destructive command without --yes, or a cancelled confirmation
  6  check: something is pending
  130/143  interrupted by SIGINT/SIGTERM";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_table_gives_a_line_to_every_code() {
        let starts: Vec<&str> = TABLE
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .collect();
        for code in [
            SUCCESS,
            FAILED,
            USAGE,
            LOCK_TIMEOUT,
            REFUSED,
            GUARDED,
            PENDING,
        ] {
            assert!(starts.contains(&code.to_string().as_str()), "{code}");
        }
        assert!(starts.contains(&format!("{SIGINT}/{SIGTERM}").as_str()));
    }
}
