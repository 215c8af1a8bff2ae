//! The ideas inbox: something captured in a line, refined (by a person or an
//! agent in chat) into a brief, then promoted to a project or dropped.

use chrono::{DateTime, Utc};

use crate::ids::{IdeaId, ProjectId, UserId};
use crate::text_enum::text_enum;
use crate::validation::{ValidationError, check_display_name, check_optional_text};

pub const IDEA_TITLE_CHARS: usize = 200;
pub const IDEA_NOTES_CHARS: usize = 50_000;

text_enum!(
    /// Where an idea is.
    IdeaState, "state", {
        New => "new",
        Refining => "refining",
        /// A project was made from it (its `project_id`).
        Promoted => "promoted",
        Dropped => "dropped",
    }
);

impl IdeaState {
    /// Whether a person (or an agent) may move an idea from `self` to `to`.
    /// Promotion happens only by making a project, so it is not a move here;
    /// a dropped idea can be picked up again.
    pub fn can_move_to(self, to: IdeaState) -> bool {
        use IdeaState::*;
        matches!((self, to), (New, Refining) | (New | Refining, Dropped) | (Dropped, New) | (Refining, New))
    }

    pub fn is_open(self) -> bool {
        matches!(self, IdeaState::New | IdeaState::Refining)
    }
}

/// A stored idea.
#[derive(Clone, Debug, PartialEq)]
pub struct Idea {
    pub id: IdeaId,
    pub user_id: UserId,
    pub title: String,
    /// What refining it produced so far: the brief a project would start from.
    pub notes: String,
    pub state: IdeaState,
    pub project_id: Option<ProjectId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An idea to capture.
#[derive(Clone, Debug, PartialEq)]
pub struct NewIdea {
    pub title: String,
    pub notes: String,
}

impl NewIdea {
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_display_name("title", &self.title, IDEA_TITLE_CHARS)?;
        check_optional_text("notes", &self.notes, IDEA_NOTES_CHARS)
    }
}

/// A change to an idea: its notes, its state, or both.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdeaPatch {
    pub notes: Option<String>,
    pub state: Option<IdeaState>,
}

impl IdeaPatch {
    /// Checks the patch against the idea as it is.
    pub fn check(&self, idea: &Idea) -> Result<(), ValidationError> {
        if let Some(notes) = &self.notes {
            check_optional_text("notes", notes, IDEA_NOTES_CHARS)?;
            if !idea.state.is_open() {
                return Err(ValidationError::new(
                    "notes",
                    format!("the idea is {}; its notes no longer change", idea.state),
                ));
            }
        }
        if let Some(to) = self.state
            && to != idea.state
            && !idea.state.can_move_to(to)
        {
            let hint = if to == IdeaState::Promoted { " (promote it by making a project from it)" } else { "" };
            return Err(ValidationError::new("state", format!("an idea cannot go from {} to {to}{hint}", idea.state)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idea(state: IdeaState) -> Idea {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        Idea {
            id: IdeaId(1),
            user_id: UserId(1),
            title: "Bike shed".into(),
            notes: String::new(),
            state,
            project_id: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn ideas_move_only_along_their_paths() {
        let patch = |state| IdeaPatch { notes: None, state: Some(state) };
        assert_eq!(patch(IdeaState::Refining).check(&idea(IdeaState::New)), Ok(()));
        assert_eq!(patch(IdeaState::Dropped).check(&idea(IdeaState::Refining)), Ok(()));
        assert_eq!(patch(IdeaState::New).check(&idea(IdeaState::Dropped)), Ok(()));
        let promoted = patch(IdeaState::Promoted).check(&idea(IdeaState::New)).unwrap_err();
        assert!(promoted.message.contains("making a project"), "{promoted}");
        assert!(patch(IdeaState::New).check(&idea(IdeaState::Promoted)).is_err());
        let notes = IdeaPatch { notes: Some("more".into()), state: None };
        assert_eq!(notes.check(&idea(IdeaState::Promoted)).unwrap_err().field, "notes");
    }
}
