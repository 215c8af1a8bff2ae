//! Which agents carry which living documents in their context: the
//! setting `$STEWARD_HOME/living_docs.json`, written by `steward sync
//! install-hook --agent` and `steward sync attach`, read at the start of
//! every run (so a change needs no restart). An agent is named as people
//! name it (its name, any case, or its id).

use std::path::{Path, PathBuf};

use steward_domain::Agent;
use steward_domain::living_docs::{AttachedDocument, DEFAULT_BUDGET_TOKENS, LivingDocument, context_section};

use super::LivingDocsError;
use super::files::{inside, read_optional, write_atomically};

/// The setting's file name in the home.
pub const SETTINGS_FILE: &str = "living_docs.json";

/// Every attachment, and the budget they share in a prompt.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivingDocsSettings {
    /// Tokens the documents may take in one system prompt (default 8,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<usize>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// Documents of one repository in one agent's context.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// The agent's name or id.
    pub agent: String,
    /// The working tree's top.
    pub repo: PathBuf,
    /// Paths inside the repository.
    pub documents: Vec<String>,
}

impl Attachment {
    fn names(&self, agent: &Agent) -> bool {
        self.agent.eq_ignore_ascii_case(&agent.name) || self.agent == agent.id.to_string()
    }
}

impl LivingDocsSettings {
    /// The setting in `home`; empty when the file does not exist.
    pub fn load(home: &Path) -> Result<Self, LivingDocsError> {
        let path = home.join(SETTINGS_FILE);
        let Some(text) = read_optional(&path)? else { return Ok(LivingDocsSettings::default()) };
        serde_json::from_str(&text).map_err(|error| {
            LivingDocsError::Invalid(steward_domain::ValidationError::new(
                path.display().to_string(),
                error.to_string(),
            ))
        })
    }

    /// Attaches `documents` of `repo` to `agent` (replacing that agent's
    /// earlier attachment of the same repository) and saves the setting.
    pub fn attach(home: &Path, agent: &str, repo: &Path, documents: &[String]) -> Result<Self, LivingDocsError> {
        let mut settings = Self::load(home)?;
        for (index, document) in documents.iter().enumerate() {
            inside(repo, document, &format!("documents[{index}]"))?;
        }
        settings.attachments.retain(|existing| !(existing.agent.eq_ignore_ascii_case(agent) && existing.repo == repo));
        settings.attachments.push(Attachment {
            agent: agent.to_string(),
            repo: repo.to_path_buf(),
            documents: documents.to_vec(),
        });
        let json = serde_json::to_vec_pretty(&settings).map_err(|error| LivingDocsError::Io {
            path: home.join(SETTINGS_FILE),
            source: std::io::Error::other(error),
        })?;
        write_atomically(&home.join(SETTINGS_FILE), &json)?;
        Ok(settings)
    }

    /// The attachments naming `agent`.
    pub fn for_agent<'a>(&'a self, agent: &'a Agent) -> impl Iterator<Item = &'a Attachment> + 'a {
        self.attachments.iter().filter(move |attachment| attachment.names(agent))
    }
}

/// The system prompt's section of `agent`'s living documents, read now,
/// within the setting's budget. A document that is missing or unreadable
/// is named as such, so the agent knows it is not there.
pub fn context_for(home: &Path, agent: &Agent) -> Result<String, LivingDocsError> {
    let settings = LivingDocsSettings::load(home)?;
    let mut documents = Vec::new();
    for attachment in settings.for_agent(agent) {
        for name in &attachment.documents {
            let path = inside(&attachment.repo, name, "documents")?;
            let shown = path.display().to_string();
            let document = match read_optional(&path) {
                Ok(Some(text)) => match LivingDocument::parse(&text) {
                    Ok(parsed) => AttachedDocument { path: shown, sync: parsed.sync, body: parsed.body },
                    Err(_) => AttachedDocument { path: shown, sync: Default::default(), body: text },
                },
                Ok(None) => AttachedDocument { path: shown, sync: Default::default(), body: "(missing)".into() },
                Err(error) => {
                    AttachedDocument { path: shown, sync: Default::default(), body: format!("(unreadable: {error})") }
                }
            };
            documents.push(document);
        }
    }
    Ok(context_section(&documents, settings.budget_tokens.unwrap_or(DEFAULT_BUDGET_TOKENS)))
}
