//! The local AWS emulator a replay starts when `AWS_ENDPOINT_URL` is unset, and the environment
//! the AWS SDK needs to reach it.
//!
//! The repository's `scripts/emulator.sh` starts a new moto server on a free port of 127.0.0.1,
//! creating `.venv` first if needed, and stops exactly that process by its id. The guard here
//! stops its own server when dropped, so the server also stops when the replay fails or is
//! interrupted, and other runs' servers keep running.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

use super::ReplayError;

/// The script, relative to the repository root, that starts and stops the emulator.
pub const EMULATOR_SCRIPT: &str = "scripts/emulator.sh";
/// A folder, relative to the repository root, whose presence marks the root.
const DATA_MARKER: &str = "data/nba_elo_latest";

/// Finds the repository root: the first ancestor of the current folder, or failing that of the
/// running binary, that contains both the emulator script and the forecast data.
pub fn find_repository_root() -> Result<PathBuf, ReplayError> {
    let mut starts = Vec::new();
    if let Ok(current) = env::current_dir() {
        starts.push(current);
    }
    if let Ok(binary) = env::current_exe() {
        starts.push(binary);
    }
    starts
        .iter()
        .flat_map(|start| start.ancestors())
        .find(|dir| is_repository_root(dir))
        .map(Path::to_path_buf)
        .ok_or(ReplayError::RepositoryNotFound)
}

fn is_repository_root(dir: &Path) -> bool {
    dir.join(EMULATOR_SCRIPT).is_file() && dir.join(DATA_MARKER).is_dir()
}

/// A running emulator, stopped when dropped.
#[derive(Debug)]
pub struct Emulator {
    root: PathBuf,
    endpoint: String,
}

impl Emulator {
    /// Starts the emulator with the repository's script and returns its endpoint.
    pub fn start(root: &Path) -> Result<Self, ReplayError> {
        let output = Command::new("bash")
            .arg(EMULATOR_SCRIPT)
            .arg("start")
            .current_dir(root)
            .output()
            .map_err(|error| ReplayError::Emulator {
                detail: format!("could not run {EMULATOR_SCRIPT}: {error}"),
            })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let endpoint = stdout.lines().rev().find(|line| line.starts_with("http://127.0.0.1:"));
        match (output.status.success(), endpoint) {
            (true, Some(endpoint)) => Ok(Self {
                root: root.to_path_buf(),
                endpoint: endpoint.trim().to_string(),
            }),
            _ => {
                // The script stops a server that did not answer; no endpoint means nothing to stop.
                if let Some(endpoint) = endpoint {
                    stop(root, endpoint.trim());
                }
                Err(ReplayError::Emulator {
                    detail: format!(
                        "{EMULATOR_SCRIPT} start failed ({}): {}",
                        output.status,
                        String::from_utf8_lossy(&output.stderr).trim()
                    ),
                })
            }
        }
    }

    /// Returns the endpoint URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        stop(&self.root, &self.endpoint);
    }
}

fn stop(root: &Path, endpoint: &str) {
    let stopped = Command::new("bash")
        .arg(EMULATOR_SCRIPT)
        .arg("stop")
        .arg(endpoint)
        .current_dir(root)
        .status();
    if let Err(error) = stopped {
        tracing::warn!(%error, endpoint, "could not stop the emulator; its process id is in .run/");
    }
}

/// Points the AWS SDK at `endpoint` with dummy credentials and no instance-metadata probing.
///
/// Credentials already in the environment are replaced, so a replay never signs requests to
/// its own emulator with real ones. Call this before any SDK client is created.
pub fn use_local_endpoint(endpoint: &str) {
    for (name, value) in [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ] {
        env::set_var(name, value);
    }
    env::remove_var("AWS_SESSION_TOKEN");
    env::remove_var("AWS_PROFILE");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_root_found_from_crate_folder() {
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = crate_dir.ancestors().find(|dir| is_repository_root(dir));
        assert_eq!(root, crate_dir.parent());
    }

    #[test]
    fn crate_folder_is_not_repository_root() {
        assert!(!is_repository_root(Path::new(env!("CARGO_MANIFEST_DIR"))));
    }
}
