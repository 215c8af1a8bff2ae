//! `workspace.read`, `workspace.write`, `workspace.list` and
//! `workspace.search`: files in the run's own folder, never outside it (see
//! [`super::confined`] for how escapes are refused).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::config::WorkspaceToolsConfig;
use super::{Tool, ToolContext, ToolError, ToolOutput, parse_input, schema_of};
use crate::confined::{ConfinedDir, FileAccessError, ListingKind, SearchRequest};

/// Runs blocking file work on the workspace of `context` off the async
/// threads. The workspace folder is created on first use.
async fn in_workspace<T, F>(context: &ToolContext, work: F) -> Result<T, ToolError>
where
    T: Send + 'static,
    F: FnOnce(ConfinedDir) -> Result<T, FileAccessError> + Send + 'static,
{
    let root: PathBuf = context.workspace.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&root).map_err(|error| FileAccessError::Io {
            operation: "create the workspace",
            path: root.display().to_string(),
            message: error.to_string(),
        })?;
        work(ConfinedDir::open(&root, "workspace")?)
    })
    .await
    .map_err(|error| ToolError::Failed(format!("the file operation stopped: {error}")))?;
    outcome.map_err(ToolError::from)
}

pub struct WorkspaceRead {
    pub config: WorkspaceToolsConfig,
}

/// Reads a text file of the workspace.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReadArguments {
    /// Path of the file, relative to the workspace.
    path: String,
    /// Byte offset to start reading from; a long file is read in parts, and
    /// each part says where the next one starts.
    #[serde(default)]
    offset: u64,
}

#[async_trait]
impl Tool for WorkspaceRead {
    fn name(&self) -> &str {
        "workspace.read"
    }

    fn description(&self) -> &str {
        "Read a UTF-8 text file from your workspace (paths are relative to it). Long files come in parts: pass the offset the previous part names to read on."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<ReadArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: ReadArguments = parse_input(input)?;
        let limit = self.config.max_read_bytes;
        let path = arguments.path.clone();
        let slice = in_workspace(context, move |dir| dir.read_text(&path, arguments.offset, limit)).await?;
        Ok(ToolOutput::text(slice.into_tool_text()))
    }
}

pub struct WorkspaceWrite {
    pub config: WorkspaceToolsConfig,
}

/// Writes a text file in the workspace, replacing it if it exists.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WriteArguments {
    /// Path of the file, relative to the workspace; missing folders are created.
    path: String,
    /// The whole new content of the file.
    content: String,
}

#[async_trait]
impl Tool for WorkspaceWrite {
    fn name(&self) -> &str {
        "workspace.write"
    }

    fn description(&self) -> &str {
        "Write a text file in your workspace (paths are relative to it), replacing the file if it exists; missing folders are created."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<WriteArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: WriteArguments = parse_input(input)?;
        let limit = self.config.max_write_bytes;
        let (path, size) = (arguments.path.clone(), arguments.content.len());
        let created =
            in_workspace(context, move |dir| dir.write_atomically(&path, arguments.content.as_bytes(), limit)).await?;
        let verb = if created { "created" } else { "replaced" };
        Ok(ToolOutput::text(format!("{verb} {} ({size} bytes)", arguments.path)))
    }
}

pub struct WorkspaceList {
    pub config: WorkspaceToolsConfig,
}

/// Lists a folder of the workspace.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListArguments {
    /// Folder to list, relative to the workspace; the workspace itself when omitted.
    #[serde(default = "workspace_root")]
    path: String,
    /// Also list everything below the folder.
    #[serde(default)]
    recursive: bool,
}

fn workspace_root() -> String {
    ".".to_owned()
}

#[async_trait]
impl Tool for WorkspaceList {
    fn name(&self) -> &str {
        "workspace.list"
    }

    fn description(&self) -> &str {
        "List the files and folders of your workspace, or of one folder in it; folders end in `/`, symbolic links in `@`."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<ListArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: ListArguments = parse_input(input)?;
        let limit = self.config.max_list_entries;
        let listing = in_workspace(context, move |dir| dir.list(&arguments.path, arguments.recursive, limit)).await?;
        if listing.entries.is_empty() {
            return Ok(ToolOutput::text("(empty)"));
        }
        let mut content = String::new();
        for entry in &listing.entries {
            let _ = match entry.kind {
                ListingKind::File { size } => writeln!(content, "{} ({size} bytes)", entry.path),
                ListingKind::Directory => writeln!(content, "{}/", entry.path),
                ListingKind::Symlink => writeln!(content, "{}@", entry.path),
                ListingKind::Other => writeln!(content, "{} (special file)", entry.path),
            };
        }
        if listing.truncated {
            let _ = writeln!(content, "[only the first {limit} entries are shown; list a folder to see more]");
        }
        Ok(ToolOutput::text(content.trim_end()))
    }
}

pub struct WorkspaceSearch {
    pub config: WorkspaceToolsConfig,
}

/// Finds lines containing a text in the workspace's files.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchArguments {
    /// The text to look for (literal, not a pattern).
    query: String,
    /// File or folder to search, relative to the workspace; the whole workspace when omitted.
    #[serde(default = "workspace_root")]
    path: String,
    /// Match upper and lower case exactly.
    #[serde(default)]
    case_sensitive: bool,
    /// Most matching lines to return (the configured limit caps it).
    max_results: Option<usize>,
}

#[async_trait]
impl Tool for WorkspaceSearch {
    fn name(&self) -> &str {
        "workspace.search"
    }

    fn description(&self) -> &str {
        "Search the text files of your workspace for lines containing a text; returns `path:line: text` for each match."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<SearchArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: SearchArguments = parse_input(input)?;
        if arguments.query.is_empty() {
            return Err(ToolError::InvalidInput("query is empty".into()));
        }
        let max_results =
            arguments.max_results.unwrap_or(self.config.max_search_results).clamp(1, self.config.max_search_results);
        let cancel = context.cancel.clone();
        let report = in_workspace(context, move |dir| {
            let request = SearchRequest {
                path: &arguments.path,
                query: &arguments.query,
                case_sensitive: arguments.case_sensitive,
                max_results,
            };
            dir.search(&request, &cancel)
        })
        .await?;
        let mut content = String::new();
        for found in &report.matches {
            let _ = writeln!(content, "{}:{}: {}", found.path, found.line_number, found.line);
        }
        let _ = write!(content, "[{} matching lines in {} files searched", report.matches.len(), report.files_searched);
        if report.files_skipped > 0 {
            let _ = write!(content, "; {} binary or very large files skipped", report.files_skipped);
        }
        if report.truncated {
            let _ = write!(content, "; stopped at {max_results} matches, narrow the search to see more");
        }
        content.push(']');
        Ok(ToolOutput::text(content))
    }
}
