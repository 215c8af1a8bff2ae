//! Skills: folders with a `SKILL.md` — YAML front matter (`name`,
//! `description`, optional `allowed-tools`), a Markdown body — and resource
//! files. The [`SkillCatalog`] loads them from a list of directories
//! (`$STEWARD_HOME/skills`, an agent's own folder) and gives the agent loop
//! what it needs: the index (names and descriptions, the only part that sits
//! in the context), a skill's body, its allowed tools, its resource files.
//!
//! Loading never fails: a malformed skill is skipped and reported as a
//! [`SkillProblem`] with file and line; one that only breaks a limit of the
//! format (a description over 1,024 characters) loads, with a warning.

mod parse;
mod problem;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub use parse::{LONGEST_DESCRIPTION, LONGEST_NAME, check_name};
pub use problem::{SkillProblem, SkillProblemKind};

use crate::confined::{ConfinedDir, FileAccessError, ListingKind, TextSlice};

/// The file that makes a folder a skill.
pub const SKILL_FILE: &str = "SKILL.md";

/// Largest `SKILL.md` read; a skill's body is instructions, not data.
const LARGEST_SKILL_FILE: u64 = 1024 * 1024;

/// A skill that loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct Skill {
    pub name: String,
    pub description: String,
    /// The tools the skill may use while it is in use; `None`: no narrowing.
    pub allowed_tools: Option<Vec<String>>,
    /// The Markdown after the front matter.
    pub body: String,
    /// The skill's folder; resource files are read only from inside it.
    pub directory: PathBuf,
    /// The skills directory it was found in.
    pub source: PathBuf,
}

impl Skill {
    pub fn skill_file(&self) -> PathBuf {
        self.directory.join(SKILL_FILE)
    }
}

/// Why the catalog could not give what was asked.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SkillError {
    #[error("there is no skill `{name}`{}", known_list(.known))]
    Unknown { name: String, known: Vec<String> },
    #[error(transparent)]
    File(#[from] FileAccessError),
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "; no skills are installed".to_owned()
    } else {
        format!("; the skills are: {}", known.join(", "))
    }
}

/// The skills an agent can use, and the problems found loading them.
#[derive(Clone, Debug, Default)]
pub struct SkillCatalog {
    skills: BTreeMap<String, Skill>,
    problems: Vec<SkillProblem>,
}

impl SkillCatalog {
    /// Loads every skill folder of `directories`, in order; a directory that
    /// does not exist has no skills. When two skills share a name, the one
    /// from the earlier directory (then the earlier folder name) is kept and
    /// the other reported.
    pub fn load(directories: &[PathBuf]) -> SkillCatalog {
        let mut catalog = SkillCatalog::default();
        for directory in directories {
            for folder in catalog.skill_folders(directory) {
                catalog.load_folder(directory, &folder);
            }
        }
        catalog
    }

    /// The folders of `directory`, sorted; hidden ones are skipped.
    fn skill_folders(&mut self, directory: &Path) -> Vec<PathBuf> {
        let entries = match std::fs::read_dir(directory) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Vec::new(),
            Err(error) => {
                self.report(directory, None, SkillProblemKind::Unreadable { message: error.to_string() });
                return Vec::new();
            }
        };
        let mut folders: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
            .map(|entry| entry.path())
            // A symlinked skill folder is the owner's choice and is followed.
            .filter(|path| path.is_dir())
            .collect();
        folders.sort();
        folders
    }

    fn load_folder(&mut self, source: &Path, folder: &Path) {
        let file = folder.join(SKILL_FILE);
        let text = match read_skill_file(&file) {
            Ok(text) => text,
            Err((problem_file, kind)) => return self.report(problem_file, None, kind),
        };
        let mut parsed = match parse::parse_skill(&text, &file) {
            Ok(parsed) => parsed,
            Err(problems) => return self.problems.extend(problems),
        };
        self.problems.append(&mut parsed.warnings);
        if let Some(first) = self.skills.get(&parsed.name) {
            let kind = SkillProblemKind::NameClash { name: parsed.name.clone(), first: first.skill_file() };
            return self.report(&file, Some(parsed.name_line), kind);
        }
        let skill = Skill {
            name: parsed.name.clone(),
            description: parsed.description,
            allowed_tools: parsed.allowed_tools,
            body: parsed.body,
            directory: folder.to_path_buf(),
            source: source.to_path_buf(),
        };
        self.skills.insert(parsed.name, skill);
    }

    fn report(&mut self, file: &Path, line: Option<usize>, kind: SkillProblemKind) {
        self.problems.push(SkillProblem::new(file, line, kind));
    }

    /// The skills, by name.
    pub fn skills(&self) -> impl Iterator<Item = &Skill> {
        self.skills.values()
    }

    pub fn is_empty(&self) -> bool {
        self.skills.is_empty()
    }

    /// What is wrong with the skills: errors (the skill was left out) and
    /// warnings (it loaded anyway), in the order found.
    pub fn problems(&self) -> &[SkillProblem] {
        &self.problems
    }

    /// The problems that left a skill out.
    pub fn errors(&self) -> impl Iterator<Item = &SkillProblem> {
        self.problems.iter().filter(|problem| !problem.is_warning())
    }

    pub fn get(&self, name: &str) -> Result<&Skill, SkillError> {
        self.skills
            .get(name)
            .ok_or_else(|| SkillError::Unknown { name: name.to_owned(), known: self.skills.keys().cloned().collect() })
    }

    /// The index for the agent's context: one `- name: description` line per
    /// skill, empty when there are none.
    pub fn index(&self) -> String {
        self.skills.values().map(|skill| format!("- {}: {}\n", skill.name, skill.description)).collect()
    }

    /// The skill's instructions (the Markdown body).
    pub fn body(&self, name: &str) -> Result<&str, SkillError> {
        Ok(&self.get(name)?.body)
    }

    /// The tools the skill narrows the agent to while in use, if it does.
    pub fn allowed_tools(&self, name: &str) -> Result<Option<&[String]>, SkillError> {
        Ok(self.get(name)?.allowed_tools.as_deref())
    }

    /// The skill's resource files (everything but `SKILL.md`), relative to
    /// its folder, at most `max_files`. Blocking file I/O.
    pub fn resources(&self, name: &str, max_files: usize) -> Result<Vec<String>, SkillError> {
        let skill = self.get(name)?;
        let folder = ConfinedDir::open(&skill.directory, "skill folder")?;
        // Folders are listed too, so look further than `max_files` entries.
        let listing = folder.list(".", true, max_files.saturating_mul(4))?;
        Ok(listing
            .entries
            .into_iter()
            .filter(|entry| matches!(entry.kind, ListingKind::File { .. }) && entry.path != SKILL_FILE)
            .map(|entry| entry.path)
            .take(max_files)
            .collect())
    }

    /// Reads a resource file of the skill, confined to its folder like the
    /// workspace tools are to the workspace. Blocking file I/O.
    pub fn read_resource(&self, name: &str, path: &str, offset: u64, max_bytes: u64) -> Result<TextSlice, SkillError> {
        let skill = self.get(name)?;
        let folder = ConfinedDir::open(&skill.directory, "skill folder")?;
        Ok(folder.read_text(path, offset, max_bytes)?)
    }
}

/// The text of a `SKILL.md`, or the problem (and the path it concerns).
fn read_skill_file(file: &Path) -> Result<String, (&Path, SkillProblemKind)> {
    let folder = file.parent().unwrap_or(file);
    let metadata = match std::fs::metadata(file) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Err((folder, SkillProblemKind::NoSkillFile)),
        Err(error) => return Err((file, SkillProblemKind::Unreadable { message: error.to_string() })),
    };
    if metadata.len() > LARGEST_SKILL_FILE {
        return Err((file, SkillProblemKind::TooLarge { size: metadata.len(), limit: LARGEST_SKILL_FILE }));
    }
    let bytes =
        std::fs::read(file).map_err(|error| (file, SkillProblemKind::Unreadable { message: error.to_string() }))?;
    String::from_utf8(bytes).map_err(|_| (file, SkillProblemKind::NotUtf8))
}
