//! Test files from a JSON file, a directory tree or a `.tar.zst` archive, read in place.

use std::{
    fs::File,
    io::Read,
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

/// Calls `f(name, contents)` for every `.json` file under `path`, in a stable order.
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
            if !is_json(&entry_name) {
                continue;
            }
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(err(path))?;
            f(entry_name, text);
        }
        Ok(())
    } else {
        let text = std::fs::read_to_string(path).map_err(err(path))?;
        f(name.into_owned(), text);
        Ok(())
    }
}

fn is_json(name: &str) -> bool {
    name.ends_with(".json")
}

fn is_archive(name: &str) -> bool {
    name.ends_with(".tar.zst")
}
