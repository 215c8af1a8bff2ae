//! OAuth 2.1 for a streamable-HTTP server with `auth = "oauth"`, on rmcp's
//! `auth` module: the requests carry the access token rmcp's `AuthClient`
//! holds (refreshed when the server rejects it); when the server answers
//! 401, or 403 `insufficient_scope`, [`OAuth::authorize`] runs the
//! authorization-code flow from the server's `WWW-Authenticate` challenge:
//! protected-resource metadata (RFC 9728) and authorization-server metadata
//! (RFC 8414 / OpenID), a client (pre-registered `client_id`, a client ID
//! metadata document, or dynamic registration, RFC 7591), PKCE S256, the
//! `resource` parameter (RFC 8707), the scopes asked for (the challenge's,
//! else the resource's, accumulated on step-up; `offline_access` when the
//! authorization server offers it) and the `iss` check of the redirect
//! (RFC 9207). A [`UserAgent`] stands for the browser: it opens the
//! authorization URL and hands back where the authorization server
//! redirected. Tokens are kept in memory, and in a file (mode 0600) when the
//! connection has one, so an authorization outlives the process.

use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;
use rmcp::transport::AuthClient;
use rmcp::transport::auth::{
    AuthError, AuthorizationManager, AuthorizationRequest, CredentialStore, InMemoryCredentialStore, OAuthState,
    StoredCredentials,
};

/// How many times one request is sent again after an authorization: a
/// first authorization and one step-up, so a server that keeps refusing
/// cannot send the client round in circles.
pub const AUTHORIZATIONS_PER_REQUEST: usize = 2;

/// Plays the browser's part: opens `authorization_url` and returns the URL
/// the authorization server redirected to (on `redirect_uri`).
pub trait UserAgent: Send + Sync {
    /// Where the authorization server sends the browser back.
    fn redirect_uri(&self) -> String;
    fn authorize<'a>(&'a self, authorization_url: &'a str) -> BoxFuture<'a, Result<String, String>>;
}

/// No person at hand (an agent's run): an authorization is refused, saying
/// so (a `steward mcp login SERVER` with a loopback redirect is to come).
pub struct NoUserAgent {
    pub server: String,
}

impl UserAgent for NoUserAgent {
    fn redirect_uri(&self) -> String {
        "http://127.0.0.1/callback".to_string()
    }

    fn authorize<'a>(&'a self, _authorization_url: &'a str) -> BoxFuture<'a, Result<String, String>> {
        let message = format!(
            "it needs an OAuth authorization in a browser, which an agent's run cannot give (mcp.servers.{}.auth)",
            self.server
        );
        Box::pin(async move { Err(message) })
    }
}

/// An authorization server that approves without a person (the conformance
/// suite's): the authorization URL is fetched and its redirect is taken
/// without following it.
pub struct FollowRedirect {
    pub redirect_uri: String,
}

impl UserAgent for FollowRedirect {
    fn redirect_uri(&self) -> String {
        self.redirect_uri.clone()
    }

    fn authorize<'a>(&'a self, authorization_url: &'a str) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|error| error.to_string())?;
            let response = http
                .get(authorization_url)
                .send()
                .await
                .map_err(|error| format!("the authorization endpoint did not answer: {error}"))?;
            let location =
                response.headers().get(reqwest::header::LOCATION).and_then(|value| value.to_str().ok()).ok_or_else(
                    || format!("the authorization endpoint answered {} without a redirect", response.status()),
                )?;
            let base = url::Url::parse(authorization_url).map_err(|error| error.to_string())?;
            base.join(location).map(String::from).map_err(|error| format!("its redirect {location:?}: {error}"))
        })
    }
}

/// How a server's client is registered, from its `[mcp.servers]` settings.
#[derive(Clone, Debug, Default)]
pub struct ClientSettings {
    pub client_id: Option<String>,
    /// Resolved already (not `secret:NAME`).
    pub client_secret: Option<String>,
    pub client_metadata_url: Option<String>,
}

/// One server's OAuth state: the HTTP client the transport sends through,
/// whose token [`OAuth::authorize`] replaces.
pub struct OAuth {
    url: String,
    settings: ClientSettings,
    user_agent: Arc<dyn UserAgent>,
    token_file: Option<PathBuf>,
    client: AuthClient<reqwest::Client>,
}

impl OAuth {
    /// The state for the server at `url`, with the tokens `token_file`
    /// holds, if any.
    pub async fn new(
        url: &str,
        settings: ClientSettings,
        user_agent: Arc<dyn UserAgent>,
        token_file: Option<PathBuf>,
    ) -> Result<Self, String> {
        let mut manager = manager(url, &token_file).await?;
        if token_file.as_ref().is_some_and(|path| path.exists())
            && let Err(error) = manager.initialize_from_store().await
        {
            tracing::warn!(%url, %error, "stored MCP OAuth tokens unusable; a new authorization is needed");
        }
        Ok(OAuth {
            url: url.to_string(),
            settings,
            user_agent,
            token_file,
            client: AuthClient::new(reqwest::Client::default(), manager),
        })
    }

    /// The HTTP client for the transport (it shares this state's tokens).
    pub fn http_client(&self) -> AuthClient<reqwest::Client> {
        self.client.clone()
    }

    /// Runs the authorization-code flow the server's `challenge` (its
    /// `WWW-Authenticate`) asks for; the shared client then sends the new
    /// token. Scopes granted before are asked for again, with the new ones.
    pub async fn authorize(&self, challenge: &str) -> Result<(), String> {
        let mut held = self.client.auth_manager.lock().await;
        let placeholder = manager(&self.url, &self.token_file).await?;
        let mut state = OAuthState::Unauthorized(std::mem::replace(&mut *held, placeholder));
        let result = self.run_flow(&mut state, challenge).await;
        let manager = match state {
            OAuthState::Unauthorized(manager) | OAuthState::Authorized(manager) => Some(manager),
            OAuthState::Session(session) => Some(session.auth_manager),
            _ => None,
        };
        if let Some(manager) = manager {
            *held = manager;
        }
        result
    }

    async fn run_flow(&self, state: &mut OAuthState, challenge: &str) -> Result<(), String> {
        let mut request = AuthorizationRequest::new(self.user_agent.redirect_uri())
            .with_client_name("Steward")
            .with_challenge(challenge);
        if let Some(client_id) = &self.settings.client_id {
            request = request.with_preregistered_client(client_id);
            if let Some(secret) = &self.settings.client_secret {
                request = request.with_client_secret(secret);
            }
        }
        if let Some(url) = &self.settings.client_metadata_url {
            request = request.with_client_metadata_url(url);
        }
        state.start_authorization(request).await.map_err(|error| failed("starting the authorization", error))?;
        let authorization_url =
            state.get_authorization_url().await.map_err(|error| failed("the authorization URL", error))?;
        let redirected = self.user_agent.authorize(&authorization_url).await?;
        state.handle_callback_url(&redirected).await.map_err(|error| failed("exchanging the code", error))?;
        Ok(())
    }
}

fn failed(step: &str, error: AuthError) -> String {
    format!("OAuth: {step} failed: {error}")
}

/// A manager for `url` keeping its tokens in `token_file` (or in memory).
async fn manager(url: &str, token_file: &Option<PathBuf>) -> Result<AuthorizationManager, String> {
    let mut manager = AuthorizationManager::new(url).await.map_err(|error| failed("setting up", error))?;
    match token_file {
        Some(path) => manager.set_credential_store(TokenFile { path: path.clone() }),
        None => manager.set_credential_store(InMemoryCredentialStore::new()),
    }
    Ok(manager)
}

/// Tokens of one server in a JSON file only its owner can read.
struct TokenFile {
    path: PathBuf,
}

#[async_trait::async_trait]
impl CredentialStore for TokenFile {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|error| store_error(&self.path, error)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(store_error(&self.path, error)),
        }
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let bytes = serde_json::to_vec(&credentials).map_err(|error| store_error(&self.path, error))?;
        write_private(&self.path, &bytes).map_err(|error| store_error(&self.path, error))
    }

    async fn clear(&self) -> Result<(), AuthError> {
        match tokio::fs::remove_file(&self.path).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(store_error(&self.path, error)),
            _ => Ok(()),
        }
    }
}

fn store_error(path: &std::path::Path, error: impl std::fmt::Display) -> AuthError {
    AuthError::CredentialStoreError(format!("{}: {error}", path.display()))
}

/// Writes `bytes` to `path` (creating its directory), readable by the owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_are_kept_in_a_file_only_the_owner_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenFile { path: dir.path().join("mcp-oauth/tracker.json") };
        assert!(store.load().await.unwrap().is_none());
        store.save(StoredCredentials::new("client-1".into(), None, vec!["mcp:read".into()], Some(7))).await.unwrap();
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!((loaded.client_id.as_str(), loaded.granted_scopes), ("client-1", vec!["mcp:read".to_string()]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&store.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.clear().await.unwrap();
        assert!(store.load().await.unwrap().is_none());
    }
}
