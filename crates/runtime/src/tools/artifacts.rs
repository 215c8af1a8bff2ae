//! `artifacts.write`: the agent's deliverables, as files in the action's
//! artifact folder, recorded so they are listed with the action.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_domain::NewArtifact;
use steward_domain::artifact::check_relative_path;

use super::{Tool, ToolContext, ToolError, ToolOutput, parse_input, schema_of};

/// The largest artifact one call writes.
const MAX_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WriteArguments {
    /// Relative path in the artifact folder, e.g. `drafts/launch-post.md`.
    path: String,
    /// The whole content of the file.
    content: String,
}

#[derive(Debug, Default)]
pub struct WriteArtifact;

#[async_trait]
impl Tool for WriteArtifact {
    fn name(&self) -> &str {
        "artifacts.write"
    }

    fn description(&self) -> &str {
        "Save a deliverable (a document, a draft, data) as a file your user will find with the action. \
         Writing the same path again replaces it."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<WriteArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: WriteArguments = parse_input(input)?;
        check_relative_path("path", &arguments.path).map_err(|error| ToolError::InvalidInput(error.to_string()))?;
        if arguments.content.len() > MAX_BYTES {
            return Err(ToolError::InvalidInput(format!(
                "content is {} bytes; an artifact is at most {MAX_BYTES} bytes",
                arguments.content.len()
            )));
        }
        let folder = context.artifacts.clone();
        let relative = arguments.path.clone();
        let bytes = arguments.content.len() as u64;
        tokio::task::spawn_blocking(move || write_inside(&folder, &relative, arguments.content.as_bytes()))
            .await
            .map_err(|error| ToolError::Failed(error.to_string()))??;
        let artifact = NewArtifact {
            user_id: context.user_id,
            run_id: context.run_id,
            action_id: context.action_id,
            path: arguments.path.clone(),
            bytes,
        };
        let recorded =
            context.store.record_artifact(artifact).await.map_err(|error| ToolError::Failed(error.to_string()))?;
        Ok(ToolOutput::text(json!({ "written": recorded.path, "bytes": recorded.bytes }).to_string()))
    }
}

/// Writes `content` to `folder/relative` without leaving `folder`: every
/// existing component must be a real directory (not a symlink), and the file
/// is written to a temporary name and renamed into place, so a reader never
/// sees half a file and a symlink planted at the target is replaced, not
/// followed.
fn write_inside(folder: &Path, relative: &str, content: &[u8]) -> Result<(), ToolError> {
    std::fs::create_dir_all(folder)
        .map_err(|error| ToolError::Failed(format!("cannot create the artifact folder: {error}")))?;
    let mut current: PathBuf = folder.to_path_buf();
    let components: Vec<&str> = relative.split('/').collect();
    let (file, directories) = components.split_last().ok_or_else(|| ToolError::InvalidInput("empty path".into()))?;
    for directory in directories {
        current.push(directory);
        match std::fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                return Err(ToolError::Refused(format!("{relative}: a folder on the way is a symbolic link")));
            }
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => return Err(ToolError::InvalidInput(format!("{relative}: {directory} is a file, not a folder"))),
            Err(_) => std::fs::create_dir(&current).map_err(|error| ToolError::Failed(error.to_string()))?,
        }
    }
    let target = current.join(file);
    let temporary = current.join(format!(".{file}.{:08x}.tmp", rand::random::<u32>()));
    std::fs::write(&temporary, content)
        .map_err(|error| ToolError::Failed(format!("cannot write {relative}: {error}")))?;
    std::fs::rename(&temporary, &target).map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        ToolError::Failed(format!("cannot write {relative}: {error}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_inside_and_refuses_symlinked_folders() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        write_inside(root.path(), "drafts/post.md", b"hello").unwrap();
        assert_eq!(std::fs::read_to_string(root.path().join("drafts/post.md")).unwrap(), "hello");
        std::os::unix::fs::symlink(outside.path(), root.path().join("escape")).unwrap();
        let error = write_inside(root.path(), "escape/x.md", b"no").unwrap_err();
        assert!(matches!(error, ToolError::Refused(_)), "{error}");
        assert!(!outside.path().join("x.md").exists());
    }

    #[test]
    fn a_symlink_planted_at_the_target_is_replaced_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim.txt");
        std::fs::write(&victim, "original").unwrap();
        std::os::unix::fs::symlink(&victim, root.path().join("report.md")).unwrap();
        write_inside(root.path(), "report.md", b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original");
        assert_eq!(std::fs::read_to_string(root.path().join("report.md")).unwrap(), "new");
    }
}
