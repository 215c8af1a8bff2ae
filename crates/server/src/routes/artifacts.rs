//! Artifacts: the files of an action or a run, and a file's content, read
//! from the runtime's artifact folder without ever leaving it.

use std::path::Path;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use steward_domain::artifact::check_relative_path;
use steward_domain::{ActionId, ArtifactId, RunId, UserId};
use steward_store::ArtifactFilter;

use crate::AppState;
use crate::api::{ArtifactListResponse, ErrorCode, ErrorResponse};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::IdPath;

#[utoipa::path(
    get, path = "/api/v1/actions/{id}/artifacts", tag = "artifacts",
    summary = "List the files produced for an action",
    params(("id" = i64, Path, description = "The action's id")),
    responses((status = 200, body = ArtifactListResponse), (status = 404, body = ErrorResponse))
)]
pub async fn action_artifacts(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ActionId>,
) -> Result<Json<ArtifactListResponse>, ApiError> {
    state.store.get_action(caller.user, id).await?;
    list(&state, caller.user, ArtifactFilter { action_id: Some(id), run_id: None }).await
}

#[utoipa::path(
    get, path = "/api/v1/runs/{id}/artifacts", tag = "artifacts",
    summary = "List the files a run wrote last",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = ArtifactListResponse), (status = 404, body = ErrorResponse))
)]
pub async fn run_artifacts(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<RunId>,
) -> Result<Json<ArtifactListResponse>, ApiError> {
    state.store.get_run(caller.user, id).await?;
    list(&state, caller.user, ArtifactFilter { action_id: None, run_id: Some(id) }).await
}

async fn list(state: &AppState, user: UserId, filter: ArtifactFilter) -> Result<Json<ArtifactListResponse>, ApiError> {
    let artifacts = state.store.list_artifacts(user, filter).await?;
    Ok(Json(ArtifactListResponse { artifacts: artifacts.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    get, path = "/api/v1/artifacts/{id}/content", tag = "artifacts",
    summary = "Download an artifact's file",
    description = "The bytes as the agent wrote them. The Content-Type follows the extension for text, JSON, \
                   images and PDF; anything else (HTML included) is `application/octet-stream`, and the \
                   response is sandboxed, so a file cannot run script in the API's origin.",
    params(("id" = i64, Path, description = "The artifact's id")),
    responses(
        (status = 200, body = [u8], description = "The file"),
        (status = 404, body = ErrorResponse, description = "No such artifact, or its file is gone"),
        (status = 503, body = ErrorResponse, description = "`no_agent_runtime`"),
    )
)]
pub async fn artifact_content(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ArtifactId>,
) -> Result<Response, ApiError> {
    let (artifact, bytes) = read_artifact(&state, caller.user, id).await?;
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static(content_type_of(&artifact.path))),
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox")),
    ];
    Ok((headers, bytes).into_response())
}

/// An artifact and its file's bytes, read only from inside its folder (the
/// API's content route and the MCP server's `steward://artifacts/{id}`).
pub(crate) async fn read_artifact(
    state: &AppState,
    user: steward_domain::UserId,
    id: ArtifactId,
) -> Result<(steward_domain::Artifact, Vec<u8>), ApiError> {
    let runtime = state.agent_runtime()?;
    let artifact = state.store.get_artifact(user, id).await?;
    let folder = runtime.artifacts_of(artifact.run_id, artifact.action_id);
    let relative = artifact.path.clone();
    let read = tokio::task::spawn_blocking(move || read_inside(&folder, &relative))
        .await
        .map_err(|error| ApiError::internal(format!("reading the artifact failed: {error}")))?;
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(Unreadable::Gone) => {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("the file of artifact {id} ({}) is no longer in its folder", artifact.path),
            ));
        }
        Err(Unreadable::Outside) => {
            tracing::warn!(artifact = %id, path = %artifact.path, "refused an artifact leading out of its folder");
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("artifact {id}'s path leads out of its folder, so it is not served"),
            ));
        }
        Err(Unreadable::Failed(error)) => {
            return Err(ApiError::internal(format!("cannot read the file of artifact {id}: {error}")));
        }
    };
    Ok((artifact, bytes))
}

#[derive(Debug)]
enum Unreadable {
    /// No such file (any more), or not a file.
    Gone,
    /// The path, once symlinks are resolved, is not inside the folder.
    Outside,
    Failed(std::io::Error),
}

/// The bytes of `folder/relative`, refusing any path that leads out of
/// `folder`: `..`, absolute paths, and symlinks pointing elsewhere.
fn read_inside(folder: &Path, relative: &str) -> Result<Vec<u8>, Unreadable> {
    check_relative_path("path", relative).map_err(|_| Unreadable::Outside)?;
    let io_error = |error: std::io::Error| match error.kind() {
        std::io::ErrorKind::NotFound => Unreadable::Gone,
        _ => Unreadable::Failed(error),
    };
    let folder = folder.canonicalize().map_err(io_error)?;
    let file = folder.join(relative).canonicalize().map_err(io_error)?;
    if !file.starts_with(&folder) {
        return Err(Unreadable::Outside);
    }
    if !file.metadata().map_err(io_error)?.is_file() {
        return Err(Unreadable::Gone);
    }
    std::fs::read(&file).map_err(io_error)
}

/// A Content-Type for the extensions that are safe to show as they are.
pub(crate) fn content_type_of(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, extension)| extension.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "md" | "markdown" => "text/markdown; charset=utf-8",
        "txt" | "log" | "text" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "yaml" | "yml" => "application/yaml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_only_inside_their_folder() {
        let home = tempfile::tempdir().unwrap();
        let folder = home.path().join("artifacts/7");
        std::fs::create_dir_all(folder.join("drafts")).unwrap();
        std::fs::write(folder.join("drafts/post.md"), "# Post").unwrap();
        std::fs::write(home.path().join("secret.txt"), "secret").unwrap();
        assert_eq!(read_inside(&folder, "drafts/post.md").unwrap(), b"# Post");
        assert!(matches!(read_inside(&folder, "../../secret.txt"), Err(Unreadable::Outside)));
        assert!(matches!(read_inside(&folder, "/etc/passwd"), Err(Unreadable::Outside)));
        assert!(matches!(read_inside(&folder, "missing.md"), Err(Unreadable::Gone)));
        assert!(matches!(read_inside(&folder, "drafts"), Err(Unreadable::Gone)));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(home.path().join("secret.txt"), folder.join("link.txt")).unwrap();
            assert!(matches!(read_inside(&folder, "link.txt"), Err(Unreadable::Outside)));
        }
    }

    #[test]
    fn only_safe_types_are_named() {
        assert_eq!(content_type_of("drafts/Post.MD"), "text/markdown; charset=utf-8");
        assert_eq!(content_type_of("page.html"), "application/octet-stream");
        assert_eq!(content_type_of("image.svg"), "application/octet-stream");
        assert_eq!(content_type_of("README"), "application/octet-stream");
    }
}
