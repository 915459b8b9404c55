//! Test files from a JSON file (plain, `.json.zst` or `.json.gz`), a directory tree or a `.tar.zst`
//! archive, read in place, each at most [`bp_formats::DEFAULT_MAX_INPUT_BYTES`] decompressed.

use std::{
    fs::File,
    path::{Path, PathBuf},
};

/// A path that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}")]
pub struct FileError {
    /// The path.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

fn err(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError { path: path.to_path_buf(), source }
}

/// Calls `f(name, contents)` for every JSON test file under `path` (`.json`, `.json.zst`,
/// `.json.gz`, and `.json` entries of `.tar.zst` archives), in a stable order.
pub fn for_each_file(path: &Path, f: &mut dyn FnMut(String, String)) -> Result<(), FileError> {
    let name = path.to_string_lossy();
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path).map_err(err(path))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() || is_json(&entry.to_string_lossy()) || is_archive(&entry.to_string_lossy()) {
                for_each_file(&entry, f)?;
            }
        }
        Ok(())
    } else if is_archive(&name) {
        let file = File::open(path).map_err(err(path))?;
        let decoder = zstd::stream::read::Decoder::new(file).map_err(err(path))?;
        let mut archive = tar::Archive::new(decoder);
        for entry in archive.entries().map_err(err(path))? {
            let mut entry = entry.map_err(err(path))?;
            let entry_name = entry.path().map_err(err(path))?.to_string_lossy().into_owned();
            if !entry_name.ends_with(".json") {
                continue;
            }
            let limit = bp_formats::DEFAULT_MAX_INPUT_BYTES;
            let bytes = bp_formats::read_limited(&mut entry, limit).map_err(err(path))?.ok_or_else(|| {
                err(path)(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("entry {entry_name} holds more than {limit} bytes"),
                ))
            })?;
            f(entry_name, utf8(bytes).map_err(err(path))?);
        }
        Ok(())
    } else {
        let bytes = bp_formats::read_bytes(path, bp_formats::DEFAULT_MAX_INPUT_BYTES)
            .map_err(|e| err(path)(std::io::Error::other(bp_program::ErrorChain(&e).to_string())))?;
        f(name.into_owned(), utf8(bytes).map_err(err(path))?);
        Ok(())
    }
}

fn utf8(bytes: Vec<u8>) -> std::io::Result<String> {
    String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

fn is_json(name: &str) -> bool {
    [".json", ".json.zst", ".json.gz"].iter().any(|suffix| name.ends_with(suffix))
}

fn is_archive(name: &str) -> bool {
    name.ends_with(".tar.zst")
}
