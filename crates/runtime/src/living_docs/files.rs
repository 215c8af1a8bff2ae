//! Files written whole or not at all: the new text goes to a temporary
//! file beside the target, is synced to disk, and is renamed over it, so a
//! process that dies mid-way leaves the old file or the new one, never
//! half of either. The folder is synced too, so the rename survives a
//! power loss.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::LivingDocsError;

/// Replaces `path` with `contents` atomically, keeping its permissions.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), LivingDocsError> {
    let io = |source| LivingDocsError::Io { path: path.to_path_buf(), source };
    let folder = path.parent().filter(|folder| !folder.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(io)?;
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = folder.join(format!(".{name}.steward-{}.tmp", std::process::id()));
    remove_stale_temporaries(folder, &name);
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(contents)?;
        if let Ok(metadata) = std::fs::metadata(path) {
            file.set_permissions(metadata.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        // Syncing the folder makes the rename durable; some file systems
        // refuse to open a folder for that, which loses nothing else.
        if let Ok(folder) = std::fs::File::open(folder) {
            let _ = folder.sync_all();
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(io)
}

/// Removes what a writer of `name` that died before its rename left behind
/// (the document itself was never touched by it).
fn remove_stale_temporaries(folder: &Path, name: &str) {
    let prefix = format!(".{name}.steward-");
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with(&prefix) && file_name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A file's text, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>, LivingDocsError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| LivingDocsError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LivingDocsError::Io { path: path.to_path_buf(), source }),
    }
}

/// `name` inside `root`, refused when it is absolute or climbs out with `..`.
pub fn inside(root: &Path, name: &str, field: &str) -> Result<PathBuf, LivingDocsError> {
    let relative = Path::new(name);
    let climbs = relative.components().any(|part| !matches!(part, std::path::Component::Normal(_)));
    if name.trim().is_empty() || climbs {
        return Err(steward_domain::ValidationError::new(
            field,
            format!("{name:?} must be a file path inside the repository (no `..`, not absolute)"),
        )
        .into());
    }
    Ok(root.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_file_is_left() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("DOC.md");
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new text").unwrap();
        assert_eq!(read_optional(&path).unwrap().as_deref(), Some("new text"));
        let names: Vec<_> = std::fs::read_dir(folder.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("DOC.md")]);
        assert_eq!(read_optional(&folder.path().join("missing.md")).unwrap(), None);
    }

    #[test]
    fn a_writer_that_died_before_its_rename_left_the_old_text_and_its_leftover_is_cleared() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("DOC.md");
        write_atomically(&path, b"old").unwrap();
        // What a process killed between writing and renaming leaves.
        std::fs::write(folder.path().join(".DOC.md.steward-999999.tmp"), b"half of the ne").unwrap();
        assert_eq!(read_optional(&path).unwrap().as_deref(), Some("old"));
        write_atomically(&path, b"new").unwrap();
        let names: Vec<_> = std::fs::read_dir(folder.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("DOC.md")]);
        assert_eq!(read_optional(&path).unwrap().as_deref(), Some("new"));
    }

    #[test]
    fn paths_outside_the_repository_are_refused_by_field() {
        let root = Path::new("/repo");
        assert_eq!(inside(root, "docs/DESIGN.md", "documents[0]").unwrap(), Path::new("/repo/docs/DESIGN.md"));
        for bad in ["../x.md", "/etc/passwd", "", "a/../../b"] {
            let error = inside(root, bad, "documents[1]").unwrap_err();
            assert!(error.to_string().starts_with("documents[1]: "), "{error}");
        }
    }
}
