//! What can be wrong with a skill, reported with the file and line so the
//! author can fix it. A skill with an error is skipped; one with only
//! warnings (it breaks a limit of the format but can still be used) loads.

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
    #[error("the description is {length} characters; the Agent Skills format allows {limit} (loaded anyway)")]
    DescriptionTooLong { length: usize, limit: usize },
    #[error("the name `{name}` is already used by {first}; this skill is skipped", first = first.display())]
    NameClash { name: String, first: PathBuf },
}

impl SkillProblemKind {
    /// Whether the skill still loads: it breaks a limit of the format (as
    /// some published skills do, and other clients load them) but nothing
    /// makes it unusable.
    pub fn is_warning(&self) -> bool {
        matches!(self, SkillProblemKind::DescriptionTooLong { .. })
    }
}

impl SkillProblem {
    pub fn new(file: impl Into<PathBuf>, line: Option<usize>, kind: SkillProblemKind) -> SkillProblem {
        SkillProblem { file: file.into(), line, kind }
    }

    pub fn is_warning(&self) -> bool {
        self.kind.is_warning()
    }
}

impl fmt::Display for SkillProblem {
    /// `path/SKILL.md:3: bad YAML …`, the form editors and terminals link;
    /// a warning says so after the line.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = if self.is_warning() { "warning: " } else { "" };
        match self.line {
            Some(line) => write!(formatter, "{}:{line}: {severity}{}", self.file.display(), self.kind),
            None => write!(formatter, "{}: {severity}{}", self.file.display(), self.kind),
        }
    }
}
