//! Files confined to one directory — a run's workspace, a skill's folder.
//! A path is first checked as text (relative, no `..`), then opened relative
//! to a handle on the directory, so no path leads out of it.
//!
//! Why cap-std rather than checking a canonicalised path: cap-std resolves
//! every path beneath a directory handle — on Linux with `openat2` and
//! `RESOLVE_BENEATH` in one system call, elsewhere component by component
//! with `O_NOFOLLOW` — and refuses any step that would leave it (`..`, an
//! absolute symlink, a symlink climbing out, a symlinked parent directory
//! pointing elsewhere). Checking a path and opening it afterwards leaves a
//! window in which a component can be swapped for a symlink; opening
//! relative to the handle leaves none. Symlinks that stay inside are
//! followed, as a person working in the folder would expect.

mod walk;

use std::fmt::Write as _;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt};

pub use walk::{Listing, ListingEntry, ListingKind, SearchMatch, SearchReport, SearchRequest};

/// A directory whose files are reached only through its handle.
pub struct ConfinedDir {
    dir: Dir,
    /// What the directory is, for messages: "workspace", "skill folder".
    area: &'static str,
}

/// Why a file in a confined directory could not be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FileAccessError {
    #[error("`{path}` is an absolute path; give a path relative to the {area}")]
    Absolute { path: String, area: &'static str },
    #[error("`{path}` contains `..`; paths cannot leave the {area}")]
    ParentComponent { path: String, area: &'static str },
    #[error("`{path}` leads outside the {area} (through a symbolic link)")]
    Escapes { path: String, area: &'static str },
    #[error("the path is empty")]
    Empty,
    #[error("`{path}` contains a NUL character")]
    NulCharacter { path: String },
    #[error("there is no `{path}` in the {area}")]
    NotFound { path: String, area: &'static str },
    #[error("`{path}` is a directory, not a file")]
    IsADirectory { path: String },
    #[error("`{path}` is not a regular file")]
    NotARegularFile { path: String },
    #[error("`{path}` is not a directory")]
    NotADirectory { path: String },
    #[error("`{path}` is a symbolic link; write to the file it points to instead")]
    IsASymlink { path: String },
    #[error("`{path}` is not UTF-8 text")]
    NotText { path: String },
    #[error("the content is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("cannot {operation} `{path}`: {message}")]
    Io { operation: &'static str, path: String, message: String },
}

/// A part of a text file, as [`ConfinedDir::read_text`] returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct TextSlice {
    pub text: String,
    /// Byte offset of `text` in the file.
    pub offset: u64,
    /// The file's size in bytes.
    pub file_size: u64,
    /// Where the next part starts, when the file goes on.
    pub next_offset: Option<u64>,
}

impl TextSlice {
    /// The text as a tool returns it: when the file goes on, followed by
    /// which bytes these were and the offset to read on from.
    pub fn into_tool_text(self) -> String {
        let mut content = self.text;
        if let Some(next_offset) = self.next_offset {
            let _ = write!(
                content,
                "\n\n[bytes {}–{next_offset} of {}; read on with offset {next_offset}]",
                self.offset, self.file_size
            );
        }
        content
    }
}

/// Checks a path given by a model: relative, no `..`, no NUL. `""` and `.`
/// name the directory itself (an empty result).
pub fn checked_relative_path(text: &str, area: &'static str) -> Result<PathBuf, FileAccessError> {
    if text.contains('\0') {
        return Err(FileAccessError::NulCharacter { path: text.to_owned() });
    }
    let mut relative = PathBuf::new();
    for component in Path::new(text).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                return Err(FileAccessError::Absolute { path: text.to_owned(), area });
            }
            Component::ParentDir => return Err(FileAccessError::ParentComponent { path: text.to_owned(), area }),
            Component::CurDir => {}
            Component::Normal(part) => relative.push(part),
        }
    }
    Ok(relative)
}

impl ConfinedDir {
    /// Opens `root` (a path Steward chose, trusted as it is).
    pub fn open(root: &Path, area: &'static str) -> Result<ConfinedDir, FileAccessError> {
        let dir = Dir::open_ambient_dir(root, ambient_authority()).map_err(|error| FileAccessError::Io {
            operation: "open",
            path: root.display().to_string(),
            message: error.to_string(),
        })?;
        Ok(ConfinedDir { dir, area })
    }

    pub fn area(&self) -> &'static str {
        self.area
    }

    /// Turns an I/O error on `path` into the error that names the problem.
    fn explain(&self, error: io::Error, operation: &'static str, path: &Path) -> FileAccessError {
        let path = display(path);
        // cap-std reports an escape as `PermissionDenied` without an OS error
        // code; a real permission problem carries `EACCES`/`EPERM`.
        if error.kind() == io::ErrorKind::PermissionDenied && error.raw_os_error().is_none() {
            return FileAccessError::Escapes { path, area: self.area };
        }
        match error.kind() {
            io::ErrorKind::NotFound => FileAccessError::NotFound { path, area: self.area },
            io::ErrorKind::IsADirectory => FileAccessError::IsADirectory { path },
            io::ErrorKind::NotADirectory => FileAccessError::NotADirectory { path },
            _ => FileAccessError::Io { operation, path, message: error.to_string() },
        }
    }

    /// Reads at most `max_bytes` of the UTF-8 text file `path` from byte
    /// `offset`, cut back to a whole character.
    pub fn read_text(&self, path: &str, offset: u64, max_bytes: u64) -> Result<TextSlice, FileAccessError> {
        let relative = checked_relative_path(path, self.area)?;
        if relative.as_os_str().is_empty() {
            return Err(FileAccessError::IsADirectory { path: path.to_owned() });
        }
        let mut options = OpenOptions::new();
        // Non-blocking, so a FIFO put in the folder cannot hang the call; it
        // changes nothing for regular files.
        options.read(true).custom_flags(libc::O_NONBLOCK);
        let mut file =
            self.dir.open_with(&relative, &options).map_err(|error| self.explain(error, "open", &relative))?;
        let metadata = file.metadata().map_err(|error| self.explain(error, "inspect", &relative))?;
        if metadata.is_dir() {
            return Err(FileAccessError::IsADirectory { path: display(&relative) });
        }
        if !metadata.is_file() {
            return Err(FileAccessError::NotARegularFile { path: display(&relative) });
        }
        let file_size = metadata.len();
        let offset = offset.min(file_size);
        file.seek(SeekFrom::Start(offset)).map_err(|error| self.explain(error, "read", &relative))?;
        let mut bytes = Vec::new();
        file.take(max_bytes).read_to_end(&mut bytes).map_err(|error| self.explain(error, "read", &relative))?;
        let reached_end = offset + bytes.len() as u64 >= file_size;
        let (text, skipped_at_start) = decode_text_slice(bytes, reached_end)
            .ok_or_else(|| FileAccessError::NotText { path: display(&relative) })?;
        let offset = offset + skipped_at_start;
        let end = offset + text.len() as u64;
        Ok(TextSlice { text, offset, file_size, next_offset: (end < file_size).then_some(end) })
    }

    /// Writes `content` to `path`, creating parent directories: into a new
    /// temporary file beside it, then renamed over it, so a reader never sees
    /// half a file and a crash leaves the old one. Returns whether the file is
    /// new.
    pub fn write_atomically(&self, path: &str, content: &[u8], max_bytes: u64) -> Result<bool, FileAccessError> {
        if content.len() as u64 > max_bytes {
            return Err(FileAccessError::TooLarge { size: content.len() as u64, limit: max_bytes });
        }
        let relative = checked_relative_path(path, self.area)?;
        let Some(file_name) = relative.file_name().map(ToOwned::to_owned) else {
            return Err(FileAccessError::Empty);
        };
        let parent_path = relative.parent().map(Path::to_path_buf).unwrap_or_default();
        let parent = if parent_path.as_os_str().is_empty() {
            self.dir.try_clone().map_err(|error| self.explain(error, "open", &parent_path))?
        } else {
            match self.dir.create_dir_all(&parent_path) {
                // Something that is not a directory is in the way (a file, a
                // symlink); opening it below names what it is.
                Err(error) if error.kind() != io::ErrorKind::AlreadyExists => {
                    return Err(self.explain(error, "create the directory", &parent_path));
                }
                _ => {}
            }
            self.dir.open_dir(&parent_path).map_err(|error| self.explain(error, "open", &parent_path))?
        };
        // The rename below replaces a symlink instead of following it, so
        // nothing outside can be written; refusing says so plainly instead of
        // silently turning the link into a file.
        let existing = match parent.symlink_metadata(&file_name) {
            Ok(metadata) if metadata.is_symlink() => {
                return Err(FileAccessError::IsASymlink { path: display(&relative) });
            }
            Ok(metadata) if metadata.is_dir() => {
                return Err(FileAccessError::IsADirectory { path: display(&relative) });
            }
            Ok(metadata) => Some(metadata),
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(error) => return Err(self.explain(error, "inspect", &relative)),
        };
        let temporary_name = format!(".{}.{:016x}.steward-tmp", file_name.to_string_lossy(), rand::random::<u64>());
        let result = (|| {
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            let mut file = parent.open_with(&temporary_name, &options)?;
            if let Some(existing) = &existing {
                file.set_permissions(existing.permissions())?;
            }
            file.write_all(content)?;
            file.sync_all()?;
            parent.rename(&temporary_name, &parent, &file_name)
        })();
        if let Err(error) = result {
            // Best effort: the temporary file is ours and useless now.
            let _ = parent.remove_file(&temporary_name);
            return Err(self.explain(error, "write", &relative));
        }
        Ok(existing.is_none())
    }

    /// The directory `relative` (already checked) inside this one.
    fn open_subdirectory(&self, relative: &Path) -> Result<Dir, FileAccessError> {
        if relative.as_os_str().is_empty() {
            return self.dir.try_clone().map_err(|error| self.explain(error, "open", relative));
        }
        self.dir.open_dir(relative).map_err(|error| self.explain(error, "open", relative))
    }
}

/// Decodes bytes read from a text file. A character cut by the end of the
/// read is dropped (it starts the next part); bytes continuing a character
/// begun before the offset are skipped and counted. `None` when the bytes are
/// not text.
fn decode_text_slice(mut bytes: Vec<u8>, reached_end: bool) -> Option<(String, u64)> {
    let skipped = bytes.iter().take(3).take_while(|byte| (**byte & 0b1100_0000) == 0b1000_0000).count();
    bytes.drain(..skipped);
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let utf8_error = error.utf8_error();
            // `error_len() == None`: the bytes end in the middle of a character.
            if reached_end || utf8_error.error_len().is_some() {
                return None;
            }
            let valid = utf8_error.valid_up_to();
            let mut bytes = error.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).ok()?
        }
    };
    if text.contains('\0') {
        return None;
    }
    Some((text, skipped as u64))
}

/// A relative path as the model sees it: `/` between components.
fn display(path: &Path) -> String {
    let parts: Vec<String> = path.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.is_empty() { ".".to_owned() } else { parts.join("/") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked_as_text() {
        assert_eq!(checked_relative_path("a/./b", "workspace").unwrap(), PathBuf::from("a/b"));
        assert_eq!(checked_relative_path(".", "workspace").unwrap(), PathBuf::new());
        assert!(matches!(checked_relative_path("/etc/passwd", "workspace"), Err(FileAccessError::Absolute { .. })));
        assert!(matches!(
            checked_relative_path("a/../../b", "workspace"),
            Err(FileAccessError::ParentComponent { .. })
        ));
        assert!(matches!(checked_relative_path("a\0b", "workspace"), Err(FileAccessError::NulCharacter { .. })));
    }

    #[test]
    fn a_character_cut_at_either_end_is_left_for_its_own_part() {
        let text = "aé".as_bytes().to_vec(); // 'é' is two bytes
        assert_eq!(decode_text_slice(text[..2].to_vec(), false), Some(("a".to_owned(), 0)));
        assert_eq!(decode_text_slice(text[2..].to_vec(), true), Some((String::new(), 1)));
        assert_eq!(decode_text_slice(vec![0xff, b'a'], false), None);
        assert_eq!(decode_text_slice(b"a\0b".to_vec(), true), None);
    }
}
