//! Walking a confined directory: listing entries and searching text files.
//! Symlinks are listed but never followed, so a walk cannot leave the
//! directory or loop; every directory is opened through its parent's handle.

use std::io::Read;
use std::path::{Path, PathBuf};

use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt};
use tokio_util::sync::CancellationToken;

use super::{ConfinedDir, FileAccessError, checked_relative_path, display};

/// Files larger than this are not searched: they are rarely text a model
/// wants line by line, and reading them would stall the call.
const LARGEST_SEARCHED_FILE: u64 = 8 * 1024 * 1024;

/// A matching line is cut to this many characters.
const LONGEST_MATCH_LINE: usize = 300;

/// Deeper directories are not walked; a real workspace never nests this far.
const DEEPEST_WALK: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub enum ListingKind {
    File { size: u64 },
    Directory,
    Symlink,
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ListingEntry {
    /// Relative to the confined directory, `/` between components.
    pub path: String,
    pub kind: ListingKind,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Listing {
    pub entries: Vec<ListingEntry>,
    /// More entries exist than were returned.
    pub truncated: bool,
}

#[derive(Clone, Debug)]
pub struct SearchRequest<'a> {
    /// A file or directory to search, relative.
    pub path: &'a str,
    /// Literal text to look for.
    pub query: &'a str,
    pub case_sensitive: bool,
    pub max_results: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchMatch {
    pub path: String,
    /// 1-based.
    pub line_number: usize,
    pub line: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchReport {
    pub matches: Vec<SearchMatch>,
    /// More matches exist than were returned.
    pub truncated: bool,
    pub files_searched: usize,
    /// Binary files and files over the size limit.
    pub files_skipped: usize,
}

impl ConfinedDir {
    /// Lists the directory `path`, with everything below it when `recursive`.
    pub fn list(&self, path: &str, recursive: bool, max_entries: usize) -> Result<Listing, FileAccessError> {
        let relative = checked_relative_path(path, self.area)?;
        let dir = self.open_subdirectory(&relative)?;
        let mut listing = Listing { entries: Vec::new(), truncated: false };
        self.list_into(&dir, &relative, recursive, max_entries, 0, &mut listing)?;
        Ok(listing)
    }

    fn list_into(
        &self,
        dir: &Dir,
        relative: &Path,
        recursive: bool,
        max_entries: usize,
        depth: usize,
        listing: &mut Listing,
    ) -> Result<(), FileAccessError> {
        for (name, kind) in self.sorted_entries(dir, relative)? {
            if listing.entries.len() >= max_entries {
                listing.truncated = true;
                return Ok(());
            }
            let path = relative.join(&name);
            listing.entries.push(ListingEntry { path: display(&path), kind: kind.clone() });
            if recursive && kind == ListingKind::Directory && depth < DEEPEST_WALK {
                let child = dir.open_dir(&name).map_err(|error| self.explain(error, "open", &path))?;
                self.list_into(&child, &path, recursive, max_entries, depth + 1, listing)?;
            }
        }
        Ok(())
    }

    /// The entries of `dir` by name, each with its kind (symlinks not followed).
    fn sorted_entries(&self, dir: &Dir, relative: &Path) -> Result<Vec<(PathBuf, ListingKind)>, FileAccessError> {
        let entries = dir.entries().map_err(|error| self.explain(error, "list", relative))?;
        let mut sorted = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| self.explain(error, "list", relative))?;
            let name = PathBuf::from(entry.file_name());
            let file_type = entry.file_type().map_err(|error| self.explain(error, "inspect", &relative.join(&name)))?;
            let kind = if file_type.is_symlink() {
                ListingKind::Symlink
            } else if file_type.is_dir() {
                ListingKind::Directory
            } else if file_type.is_file() {
                // A file removed since the listing is shown with size 0 rather
                // than failing the whole call.
                ListingKind::File { size: entry.metadata().map(|metadata| metadata.len()).unwrap_or(0) }
            } else {
                ListingKind::Other
            };
            sorted.push((name, kind));
        }
        sorted.sort_by(|left, right| left.0.cmp(&right.0));
        Ok(sorted)
    }

    /// Finds lines containing `request.query` in the file or below the
    /// directory `request.path`. Stops early when `cancel` fires.
    pub fn search(
        &self,
        request: &SearchRequest<'_>,
        cancel: &CancellationToken,
    ) -> Result<SearchReport, FileAccessError> {
        let relative = checked_relative_path(request.path, self.area)?;
        let needle = if request.case_sensitive { request.query.to_owned() } else { request.query.to_lowercase() };
        let mut report = SearchReport::default();
        let is_directory = relative.as_os_str().is_empty()
            || self.dir.metadata(&relative).map_err(|error| self.explain(error, "inspect", &relative))?.is_dir();
        if is_directory {
            let dir = self.open_subdirectory(&relative)?;
            self.search_directory(&dir, &relative, request, &needle, 0, cancel, &mut report)?;
        } else {
            let file_name = relative.file_name().map(PathBuf::from).unwrap_or_default();
            let parent = self.open_subdirectory(relative.parent().unwrap_or(Path::new("")))?;
            search_file(&parent, &file_name, &relative, request, &needle, &mut report);
        }
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    fn search_directory(
        &self,
        dir: &Dir,
        relative: &Path,
        request: &SearchRequest<'_>,
        needle: &str,
        depth: usize,
        cancel: &CancellationToken,
        report: &mut SearchReport,
    ) -> Result<(), FileAccessError> {
        for (name, kind) in self.sorted_entries(dir, relative)? {
            if report.truncated || cancel.is_cancelled() {
                return Ok(());
            }
            let path = relative.join(&name);
            match kind {
                ListingKind::Directory if depth < DEEPEST_WALK => {
                    let child = dir.open_dir(&name).map_err(|error| self.explain(error, "open", &path))?;
                    self.search_directory(&child, &path, request, needle, depth + 1, cancel, report)?;
                }
                ListingKind::File { .. } => search_file(dir, &name, &path, request, needle, report),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Adds the matching lines of the file `name` in `dir` to `report`; a file
/// that cannot be read as text is counted as skipped.
fn search_file(
    dir: &Dir,
    name: &Path,
    relative: &Path,
    request: &SearchRequest<'_>,
    needle: &str,
    report: &mut SearchReport,
) {
    let Some(text) = read_searchable_text(dir, name) else {
        report.files_skipped += 1;
        return;
    };
    report.files_searched += 1;
    for (index, line) in text.lines().enumerate() {
        let found = if request.case_sensitive { line.contains(needle) } else { line.to_lowercase().contains(needle) };
        if !found {
            continue;
        }
        if report.matches.len() >= request.max_results {
            report.truncated = true;
            return;
        }
        report.matches.push(SearchMatch {
            path: display(relative),
            line_number: index + 1,
            line: line.chars().take(LONGEST_MATCH_LINE).collect(),
        });
    }
}

fn read_searchable_text(dir: &Dir, name: &Path) -> Option<String> {
    let mut options = OpenOptions::new();
    options.read(true).custom_flags(libc::O_NONBLOCK);
    let file = dir.open_with(name, &options).ok()?;
    let metadata = file.metadata().ok()?;
    if !metadata.is_file() || metadata.len() > LARGEST_SEARCHED_FILE {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(LARGEST_SEARCHED_FILE).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    (!text.contains('\0')).then_some(text)
}
