//! Building another package of the workspace from a test. Cargo gives no `CARGO_BIN_EXE_*` for
//! another package's binary nor any path to a dependency's cdylib, so ask cargo itself: its JSON
//! messages name every artifact. Never guess paths inside `target/` (its layout is changing).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (the parent of `tests/`).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
}

/// Builds `package` (with `--release` when these tests are a release build, `--locked` under
/// `CI`) and returns cargo's `compiler-artifact` messages for that package's targets. Panics with
/// cargo's diagnostics if the build fails.
pub fn cargo_build(package: &str) -> Vec<serde_json::Value> {
    cargo_build_targets(package, &[package])
}

/// [`cargo_build`], keeping the artifacts of the targets named `targets` (e.g. a binary whose
/// name is not the package's).
pub fn cargo_build_targets(package: &str, targets: &[&str]) -> Vec<serde_json::Value> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args(["build", "-p", package, "--message-format=json"])
        .arg("--manifest-path")
        .arg(workspace_root().join("Cargo.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    if std::env::var_os("CI").is_some() {
        cmd.arg("--locked");
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo to build {package}: {e}"));
    let messages: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if !out.status.success() {
        panic!(
            "building {package} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            messages
                .iter()
                .filter_map(|m| m["message"]["rendered"].as_str())
                .collect::<String>()
        );
    }
    messages
        .into_iter()
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["target"]["name"]
                    .as_str()
                    .is_some_and(|n| targets.iter().any(|t| *t == n || t.replace('-', "_") == n))
        })
        .collect()
}

/// The executable `bin` of package `package`.
pub fn cargo_binary(package: &str, bin: &str) -> PathBuf {
    cargo_build_targets(package, &[bin])
        .iter()
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo built {package} but reported no executable {bin}"))
}

/// This workspace's target directory, as cargo resolves it (`CARGO_TARGET_DIR`, config, or
/// `target/`): other workspaces built by the tests share it, so Braid's crates' dependencies
/// are compiled once.
pub fn target_dir() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .expect("cannot run cargo metadata");
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    PathBuf::from(
        meta["target_directory"]
            .as_str()
            .expect("cargo metadata names the target directory"),
    )
}

/// The executable of binary package `package`.
pub fn cargo_executable(package: &str) -> PathBuf {
    cargo_binary(package, package)
}

/// The shared library of cdylib package `package`.
pub fn cargo_cdylib(package: &str) -> PathBuf {
    cargo_build(package)
        .iter()
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.to_string_lossy().ends_with(std::env::consts::DLL_SUFFIX))
        .unwrap_or_else(|| {
            panic!("cargo built {package} but reported no shared library (is it a cdylib?)")
        })
}
