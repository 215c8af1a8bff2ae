//! Artifacts: files an agent produced while working on an action (or an
//! ad-hoc run), kept in the action's artifact folder and listed with it.

use chrono::{DateTime, Utc};

use crate::ids::{ActionId, ArtifactId, RunId, UserId};
use crate::validation::ValidationError;

#[derive(Clone, Debug, PartialEq)]
pub struct Artifact {
    pub id: ArtifactId,
    pub user_id: UserId,
    pub run_id: RunId,
    pub action_id: Option<ActionId>,
    /// Relative to the artifact folder, `/`-separated (`drafts/post.md`).
    pub path: String,
    pub bytes: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewArtifact {
    pub user_id: UserId,
    pub run_id: RunId,
    pub action_id: Option<ActionId>,
    pub path: String,
    pub bytes: u64,
}

/// Checks an artifact's relative path: no absolute paths, no `..`, no empty
/// or hidden-control components; `/` separates folders.
pub fn check_relative_path(field: &str, path: &str) -> Result<(), ValidationError> {
    if path.is_empty() || path.len() > 500 {
        return Err(ValidationError::new(field, "must be between 1 and 500 characters"));
    }
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') {
        return Err(ValidationError::new(field, format!("{path:?} must be relative (no leading / and no drive)")));
    }
    for component in path.split('/') {
        if component.is_empty() || component == "." || component == ".." {
            return Err(ValidationError::new(field, format!("{path:?} must not contain empty, '.' or '..' parts")));
        }
        if component.chars().any(|c| c.is_control() || c == '\\') {
            return Err(ValidationError::new(field, format!("{path:?} contains a control character or backslash")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside() {
        assert!(check_relative_path("path", "drafts/post.md").is_ok());
        for bad in ["", "/etc/passwd", "../x", "a/../../b", "a//b", "C:/x", "a/./b"] {
            assert!(check_relative_path("path", bad).is_err(), "{bad:?}");
        }
    }
}
