//! What `up` and `down` are asked to reach, read from their flags (`-n`, `--to`,
//! `--to-release`, `--batch`, `--all`) once for a project of one set and of several.

use crate::error::EngineError;
use crate::model::set::MigrationId;
use crate::plan::{DownTarget, UpTarget};

/// Reads `--to-release NAME` into the newest migration through that release; `None` when the
/// releases up to it hold no migrations. A project that cannot take the flag refuses it here.
pub(super) type ReleaseEnd<'r> = &'r dyn Fn(&str) -> Result<Option<String>, EngineError>;

/// A version as typed on the command line (`20240101_000001` or `20240101000001`), normalised.
///
/// # Errors
/// [`EngineError::UnknownVersion`] for anything that is not a version.
fn version_arg(typed: &str) -> Result<String, EngineError> {
    MigrationId::normalise_version(typed).ok_or_else(|| EngineError::UnknownVersion {
        version: typed.to_owned(),
    })
}

/// What `up` is asked to reach; `None` when `--to-release` names releases that hold no
/// migrations, so there is nothing to apply.
///
/// # Errors
/// What [`version_arg`] or `release_end` fails with.
pub(super) fn up_target(
    num: Option<u32>,
    to: Option<&str>,
    to_release: Option<&str>,
    allow_out_of_order: bool,
    release_end: ReleaseEnd<'_>,
) -> Result<Option<UpTarget>, EngineError> {
    let to = match to_release {
        Some(typed) => match release_end(typed)? {
            Some(last) => Some(last),
            None => return Ok(None),
        },
        None => to.map(version_arg).transpose()?,
    };
    Ok(Some(UpTarget {
        steps: num,
        to,
        allow_out_of_order,
        only: None,
    }))
}

/// What `down` is asked to revert: everything (`--all`, or `--to-release` naming releases that
/// hold no migrations), down to a version, a batch, or the newest `-n` migrations (one by
/// default).
///
/// # Errors
/// What [`version_arg`] or `release_end` fails with.
pub(super) fn down_target(
    num: Option<u32>,
    to: Option<&str>,
    to_release: Option<&str>,
    batch: Option<Option<i32>>,
    all: bool,
    release_end: ReleaseEnd<'_>,
) -> Result<DownTarget, EngineError> {
    Ok(match (num, to, to_release, batch, all) {
        (_, _, _, _, true) => DownTarget::All,
        (_, Some(v), _, _, _) => DownTarget::To(version_arg(v)?),
        (_, _, Some(typed), _, _) => match release_end(typed)? {
            Some(keep) => DownTarget::To(keep),
            None => DownTarget::All,
        },
        (_, _, _, Some(n), _) => DownTarget::Batch(n),
        (n, None, None, None, false) => DownTarget::Steps(n.unwrap_or(1)),
    })
}
