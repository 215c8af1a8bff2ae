//! `file:PATH`: the output written whole, through a temporary file in the
//! same folder and a rename, so a reader never sees half a file and a
//! repeated attempt writes the same bytes again.

use steward_domain::delivery::{AttemptFailure, Sent};

use super::content::Content;

pub(super) async fn write(path: &str, content: &Content) -> Result<Sent, AttemptFailure> {
    let path = std::path::Path::new(path);
    let text = format!("{}\n\n---\n{}\n", content.markdown.trim_end(), content.footer_line());
    let temporary = path.with_extension(format!("steward-{}.tmp", std::process::id()));
    let result = async {
        tokio::fs::write(&temporary, text.as_bytes()).await?;
        tokio::fs::rename(&temporary, path).await
    }
    .await;
    match result {
        Ok(()) => Ok(Sent {
            http_status: None,
            response_excerpt: Some(format!("{} bytes written", text.len())),
            external_id: None,
        }),
        Err(error) => {
            let _ = tokio::fs::remove_file(&temporary).await;
            Err(AttemptFailure::permanent(format!("file {}: {error}", path.display())))
        }
    }
}
