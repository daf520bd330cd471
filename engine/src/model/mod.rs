//! The migration model: what a project declares, before any database is involved. The ordered
//! set of migrations, the consolidated migrations that may stand in for runs of it, what each
//! migration needs, and which release shipped it.

pub mod consolidated;
pub mod deps;
pub mod project;
pub mod releases;
pub mod set;
pub mod sets;

/// Why a project's declarations were refused: the first problem found, before any database is
/// contacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The migration list.
    #[error(transparent)]
    Set(#[from] set::SetError),
    /// A dependency declaration.
    #[error(transparent)]
    Dependency(#[from] deps::DependencyError),
    /// The releases file.
    #[error(transparent)]
    Release(#[from] releases::ReleaseError),
    /// A consolidated migration's declaration.
    #[error(transparent)]
    Squash(#[from] consolidated::SquashError),
    /// The sets of a project of several.
    #[error(transparent)]
    Sets(#[from] sets::SetsError),
}
