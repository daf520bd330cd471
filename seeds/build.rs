//! Digests the seeder's own sources and the workspace's lock file into `SEEDS_SOURCE_DIGEST`:
//! what decides the rows a profile generates besides its parameters, so that the reset cache
//! of `migrate fresh --seed` notices when the generator changed.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut inputs = Vec::new();
    files(&manifest.join("src"), &mut inputs);
    inputs.sort();
    let lock = manifest.join("../Cargo.lock");
    if lock.is_file() {
        inputs.push(lock);
    }
    let mut digest = Sha256::new();
    for path in &inputs {
        println!("cargo::rerun-if-changed={}", path.display());
        let relative = path.strip_prefix(&manifest).unwrap_or(path);
        digest.update(relative.to_string_lossy().as_bytes());
        digest.update([0]);
        digest.update(std::fs::read(path).unwrap_or_default());
    }
    println!("cargo::rerun-if-changed=src");
    let hex: String = digest
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("cargo::rustc-env=SEEDS_SOURCE_DIGEST={hex}");
}
