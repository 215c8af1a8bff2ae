//! `steward login`: checks an API token against the server and stores it for
//! this CLI (`credentials.rs`), which then sends it with every request. The
//! token is read from standard input, never from an argument (arguments are
//! visible to other users in the process list).

use serde_json::json;
use steward_server::api::SessionResponse;

use crate::client::ApiClient;
use crate::failure::CliFailure;
use crate::input::read_line;
use crate::options::GlobalOptions;
use crate::output::{print_json, say};

pub async fn run(global: &GlobalOptions) -> anyhow::Result<()> {
    let token = read_line("token (from `steward token create`): ").await?.unwrap_or_default();
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(
            CliFailure::invalid("token", "no token on standard input; create one with `steward token create`").into()
        );
    }
    let server = global.server_url()?;
    let client = ApiClient::new(&server)?.with_token(&token)?;
    let session = client.get::<SessionResponse>("/auth/session", &[]).await?;
    let Some(user) = session.body.user else {
        return Err(CliFailure::invalid("token", "the server does not accept this token").into());
    };
    let path = crate::credentials::store(client.base(), &token)?;
    if global.json {
        print_json(&json!({ "server": client.base(), "user": user, "credentials": path }));
    } else {
        say!("logged in to {} as {user}; the token is stored in {}", client.base(), path.display());
    }
    Ok(())
}
