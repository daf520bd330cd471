//! Where the workspace and its binaries are, and building the binaries of other packages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else the one the running test binary was built
/// into (`<target>/debug/deps/<test>-<hash>`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace_root().join(dir),
        None => {
            let exe = std::env::current_exe().expect("cannot locate the test binary");
            exe.ancestors()
                .nth(3)
                .unwrap_or_else(|| panic!("unexpected test binary location {}", exe.display()))
                .to_path_buf()
        }
    }
}

/// The binary `bin` of workspace package `package`, built once per test process.
///
/// Cargo builds only this crate's own binaries for its tests (`CARGO_BIN_EXE_*`); the
/// application's `migrate` and the `seed` binary belong to other packages, so tests that run
/// them build them here, into the same target directory.
pub fn workspace_bin(package: &str, bin: &str) -> &'static Path {
    static BUILT: OnceLock<Mutex<HashMap<String, &'static Path>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = built.get(bin) {
        return path;
    }
    let output = std::process::Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", package, "--bin", bin])
        .current_dir(workspace_root())
        .output()
        .expect("cannot run cargo");
    assert!(
        output.status.success(),
        "cargo build -p {package} --bin {bin} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = target_dir()
        .join("debug")
        .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "no {bin} binary at {}", path.display());
    let path: &'static Path = Box::leak(path.into_boxed_path());
    built.insert(bin.to_owned(), path);
    path
}
