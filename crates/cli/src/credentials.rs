//! The tokens the CLI sends: `STEWARD_TOKEN`, else the one `steward login`
//! stored for the server in `<config dir>/steward/credentials.json` (a map
//! of server URL to token, mode 0600, written atomically).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

/// Where `steward login` keeps tokens (`~/.config/steward/credentials.json`).
pub fn path() -> Option<PathBuf> {
    dirs::config_dir().map(|directory| directory.join("steward").join("credentials.json"))
}

fn read() -> BTreeMap<String, String> {
    path()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// The token to send to `server` (a base URL without a trailing slash).
pub fn token_for(server: &str) -> Option<String> {
    if let Ok(token) = std::env::var("STEWARD_TOKEN")
        && !token.trim().is_empty()
    {
        return Some(token.trim().to_string());
    }
    read().remove(server)
}

/// Stores `token` for `server`, readable by the owner only.
pub fn store(server: &str, token: &str) -> anyhow::Result<PathBuf> {
    let path = path().context("this system has no configuration directory for the token")?;
    let directory = path.parent().context("credentials path")?;
    std::fs::create_dir_all(directory).with_context(|| format!("cannot create {}", directory.display()))?;
    let mut tokens = read();
    tokens.insert(server.to_string(), token.to_string());
    let temporary = directory.join(format!("credentials.json.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary).with_context(|| format!("cannot write {}", temporary.display()))?;
    file.write_all(serde_json::to_string_pretty(&tokens)?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
