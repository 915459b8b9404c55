//! Proofs not yet acknowledged, one file each, written atomically.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use bp_protocol::{Rejection, Submission};
use serde::{Deserialize, Serialize};

/// A proof waiting for a coordinator's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingProof {
    /// The coordinator that assigned the batch.
    pub endpoint: String,
    /// What to send it.
    pub submission: Submission,
}

/// `pending/` and `rejected/` under a data directory.
#[derive(Debug)]
pub struct PendingStore {
    pending: PathBuf,
    rejected: PathBuf,
}

impl PendingStore {
    /// Opens (creating) the directories.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let pending = data_dir.join("pending");
        let rejected = data_dir.join("rejected");
        std::fs::create_dir_all(&pending)?;
        std::fs::create_dir_all(&rejected)?;
        Ok(Self { pending, rejected })
    }

    /// Writes `proof` durably (temporary file, fsync, rename) and returns its path.
    pub fn save(&self, proof: &PendingProof) -> std::io::Result<PathBuf> {
        let s = &proof.submission;
        let endpoint: String =
            proof.endpoint.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let path = self.pending.join(format!("{endpoint}-batch{}-{}.proof", s.batch, s.proof_type));
        let tmp = path.with_extension("tmp");
        let bytes = postcard::to_stdvec(proof).map_err(std::io::Error::other)?;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        if let Ok(dir) = std::fs::File::open(&self.pending) {
            let _ = dir.sync_all();
        }
        Ok(path)
    }

    /// Every kept proof, oldest batch first. Unreadable files are reported and left alone.
    pub fn list(&self) -> Vec<(PathBuf, PendingProof)> {
        let Ok(entries) = std::fs::read_dir(&self.pending) else { return Vec::new() };
        let mut proofs: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "proof"))
            .filter_map(|path| match std::fs::read(&path).map(|b| postcard::from_bytes::<PendingProof>(&b)) {
                Ok(Ok(proof)) => Some((path, proof)),
                Ok(Err(e)) => {
                    tracing::error!(file = %path.display(), "kept proof unreadable, left in place: {e}");
                    None
                }
                Err(e) => {
                    tracing::error!(file = %path.display(), "kept proof unreadable, left in place: {e}");
                    None
                }
            })
            .collect();
        proofs.sort_by_key(|(_, p)| p.submission.batch);
        proofs
    }

    /// Whether no proof is waiting.
    pub fn is_empty(&self) -> bool {
        self.list().is_empty()
    }

    /// Forgets an acknowledged proof.
    pub fn remove(&self, path: &Path) {
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!(file = %path.display(), "cannot remove an acknowledged proof: {e}");
        }
    }

    /// Moves a refused proof to `rejected/`, with the reason in a `.reason` file beside it.
    pub fn reject(&self, path: &Path, rejection: &Rejection) {
        let Some(name) = path.file_name() else { return };
        let target = self.rejected.join(name);
        let _ = std::fs::write(target.with_extension("reason"), format!("{rejection}\n"));
        if let Err(e) = std::fs::rename(path, &target) {
            tracing::warn!(file = %path.display(), "cannot move a refused proof: {e}");
        }
    }
}
