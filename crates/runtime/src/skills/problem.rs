//! What can be wrong with a skill, reported with the file and line so the
//! author can fix it. A skill with a problem is skipped; the others load.

use std::fmt;
use std::path::PathBuf;

/// One problem with one skill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkillProblem {
    /// The `SKILL.md` (or the folder, when it has none).
    pub file: PathBuf,
    /// 1-based line in `file`, when the problem has one.
    pub line: Option<usize>,
    pub kind: SkillProblemKind,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SkillProblemKind {
    #[error("cannot read: {message}")]
    Unreadable { message: String },
    #[error("the folder has no SKILL.md")]
    NoSkillFile,
    #[error("SKILL.md is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("SKILL.md is not UTF-8 text")]
    NotUtf8,
    #[error("no front matter: SKILL.md must start with a `---` line, then `name:` and `description:`, then `---`")]
    MissingFrontMatter,
    #[error("the front matter opened here is never closed by a `---` line")]
    UnterminatedFrontMatter,
    #[error("bad YAML in the front matter: {message}")]
    Yaml { message: String },
    #[error("the front matter has no `{field}`")]
    MissingField { field: &'static str },
    #[error("`{field}` is empty")]
    EmptyField { field: &'static str },
    #[error("invalid name `{name}`: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("the description is {length} characters; the limit is {limit}")]
    DescriptionTooLong { length: usize, limit: usize },
    #[error("the name `{name}` is already used by {first}; this skill is skipped", first = first.display())]
    NameClash { name: String, first: PathBuf },
}

impl SkillProblem {
    pub fn new(file: impl Into<PathBuf>, line: Option<usize>, kind: SkillProblemKind) -> SkillProblem {
        SkillProblem { file: file.into(), line, kind }
    }
}

impl fmt::Display for SkillProblem {
    /// `path/SKILL.md:3: bad YAML …`, the form editors and terminals link.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(formatter, "{}:{line}: {}", self.file.display(), self.kind),
            None => write!(formatter, "{}: {}", self.file.display(), self.kind),
        }
    }
}
