//! Secrets at rest: `$STEWARD_HOME/secrets.json` holds each secret sealed
//! with XChaCha20-Poly1305 under the master key, a random 24-byte nonce per
//! secret and the secret's name as associated data (so a sealed value moved
//! to another name does not open). The master key is 32 bytes, from
//! `STEWARD_MASTER_KEY` (base64) or the file `$STEWARD_HOME/master.key`,
//! created with mode 0600 the first time a secret is set. Values are only
//! ever opened in memory, by `steward serve` (configuration names them as
//! `secret:NAME`) and never printed: `steward secret list` shows names.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// The environment variable that may hold the master key (base64).
pub const MASTER_KEY_VARIABLE: &str = "STEWARD_MASTER_KEY";
/// How configuration names a secret instead of an environment variable.
pub const REFERENCE_PREFIX: &str = "secret:";
/// The master key's file in the home.
pub const KEY_FILE: &str = "master.key";
/// The sealed secrets' file in the home.
pub const SECRETS_FILE: &str = "secrets.json";

#[derive(Default, Serialize, Deserialize)]
struct SealedFile {
    secrets: BTreeMap<String, Sealed>,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    nonce: String,
    ciphertext: String,
}

/// The secrets of one home.
pub struct Vault {
    home: PathBuf,
    /// From the environment variable, when set; otherwise read (or made)
    /// from the key file when first needed.
    key_from_environment: Option<String>,
}

/// A secret's name: letters, digits, `_`, `-` and `.`, at most 64.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name.len() > 64 {
        bail!("NAME: a secret's name is 1 to 64 characters");
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        bail!("NAME: contains {bad:?}; a secret's name is letters, digits, '_', '-' or '.'");
    }
    Ok(())
}

impl Vault {
    pub fn new(home: &Path, key_from_environment: Option<String>) -> Vault {
        Vault { home: home.to_path_buf(), key_from_environment: key_from_environment.filter(|key| !key.is_empty()) }
    }

    /// The vault of `home`, its key from the process environment if set there.
    pub fn of_home(home: &Path) -> Vault {
        Vault::new(home, std::env::var(MASTER_KEY_VARIABLE).ok())
    }

    fn secrets_path(&self) -> PathBuf {
        self.home.join(SECRETS_FILE)
    }

    /// The names of the stored secrets.
    pub fn names(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.read()?.secrets.into_keys().collect())
    }

    /// Seals and stores `value` under `name`, replacing any earlier value.
    pub fn set(&self, name: &str, value: &str) -> anyhow::Result<()> {
        check_name(name)?;
        let cipher = self.cipher(true)?;
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: value.as_bytes(), aad: name.as_bytes() })
            .map_err(|_| anyhow::anyhow!("cannot seal the secret"))?;
        let mut file = self.read()?;
        file.secrets.insert(
            name.to_string(),
            Sealed { nonce: STANDARD.encode(nonce), ciphertext: STANDARD.encode(ciphertext) },
        );
        self.write(&file)
    }

    /// Removes `name`; false when there was none.
    pub fn remove(&self, name: &str) -> anyhow::Result<bool> {
        let mut file = self.read()?;
        let removed = file.secrets.remove(name).is_some();
        if removed {
            self.write(&file)?;
        }
        Ok(removed)
    }

    /// Every secret opened, by name (empty without a secrets file, and
    /// then no key is needed).
    pub fn open_all(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let file = self.read()?;
        if file.secrets.is_empty() {
            return Ok(BTreeMap::new());
        }
        let cipher = self.cipher(false)?;
        let mut opened = BTreeMap::new();
        for (name, sealed) in file.secrets {
            let nonce: [u8; 24] = STANDARD
                .decode(&sealed.nonce)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .with_context(|| format!("{SECRETS_FILE}: the nonce of {name:?} is damaged"))?;
            let ciphertext = STANDARD
                .decode(&sealed.ciphertext)
                .with_context(|| format!("{SECRETS_FILE}: the value of {name:?} is damaged"))?;
            let value = cipher
                .decrypt(&XNonce::from(nonce), Payload { msg: &ciphertext, aad: name.as_bytes() })
                .map_err(|_| {
                    anyhow::anyhow!(
                        "cannot open the secret {name:?}: the master key ({MASTER_KEY_VARIABLE} or {}) is not the \
                         one it was set with, or {SECRETS_FILE} was changed",
                        self.home.join(KEY_FILE).display()
                    )
                })?;
            let value = String::from_utf8(value).with_context(|| format!("the secret {name:?} is not UTF-8"))?;
            opened.insert(name, value);
        }
        Ok(opened)
    }

    fn cipher(&self, create_key: bool) -> anyhow::Result<XChaCha20Poly1305> {
        let key = match &self.key_from_environment {
            Some(encoded) => decode_key(encoded).context(MASTER_KEY_VARIABLE)?,
            None => self.key_file(create_key)?,
        };
        Ok(XChaCha20Poly1305::new(&key.into()))
    }

    fn key_file(&self, create: bool) -> anyhow::Result<[u8; 32]> {
        let path = self.home.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => decode_key(text.trim()).with_context(|| format!("{}", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && create => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                write_private(&path, format!("{}\n", STANDARD.encode(key)).as_bytes(), false)?;
                Ok(key)
            }
            Err(error) => Err(error).with_context(|| {
                format!("cannot read the master key {} (or set {MASTER_KEY_VARIABLE})", path.display())
            }),
        }
    }

    fn read(&self) -> anyhow::Result<SealedFile> {
        let path = self.secrets_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(SealedFile::default()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn write(&self, file: &SealedFile) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.home).with_context(|| format!("cannot create {}", self.home.display()))?;
        write_private(&self.secrets_path(), &serde_json::to_vec_pretty(file)?, true)
    }
}

/// What configuration's variable names are looked up in: the process
/// environment, plus every secret of `home` as `secret:NAME`, so
/// `api_key_env = "secret:anthropic"` (or `slack_token_env`,
/// `password_env`, `webhook_secret_env`) reads a stored secret.
pub fn environment(home: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut environment: BTreeMap<String, String> = std::env::vars().collect();
    let secrets = Vault::of_home(home).open_all()?;
    environment.extend(secrets.into_iter().map(|(name, value)| (format!("{REFERENCE_PREFIX}{name}"), value)));
    Ok(environment)
}

fn decode_key(encoded: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD.decode(encoded.trim()).context("is not base64")?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| anyhow::anyhow!("must be 32 bytes in base64 (e.g. from `openssl rand -base64 32`)"))
}

/// Writes `bytes` readable by the owner only: through a renamed temporary
/// file when `replace`, or as a new file that must not exist yet.
fn write_private(path: &Path, bytes: &[u8], replace: bool) -> anyhow::Result<()> {
    let target = if replace { path.with_extension(format!("tmp.{}", std::process::id())) } else { path.to_path_buf() };
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&target).with_context(|| format!("cannot write {}", target.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    if replace {
        std::fs::rename(&target, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sealed_and_open_only_under_their_key_and_name() {
        let home = tempfile::tempdir().unwrap();
        let vault = Vault::new(home.path(), None);
        assert!(vault.open_all().unwrap().is_empty(), "no file, no key needed");
        vault.set("anthropic", "sk-ant-marker-123456789").unwrap();
        vault.set("smtp", "hunter2").unwrap();
        assert_eq!(vault.names().unwrap(), ["anthropic", "smtp"]);
        let stored = std::fs::read_to_string(home.path().join(SECRETS_FILE)).unwrap();
        assert!(!stored.contains("marker") && !stored.contains("hunter2"), "{stored}");
        #[cfg(unix)]
        for file in [KEY_FILE, SECRETS_FILE] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(home.path().join(file)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        assert_eq!(vault.open_all().unwrap()["anthropic"], "sk-ant-marker-123456789");

        // A sealed value moved to another name does not open.
        let swapped = stored.replace("\"anthropic\"", "\"other\"");
        std::fs::write(home.path().join(SECRETS_FILE), swapped).unwrap();
        assert!(vault.open_all().unwrap_err().to_string().contains("\"other\""));
        std::fs::write(home.path().join(SECRETS_FILE), stored).unwrap();

        // Another key opens nothing.
        let other = Vault::new(home.path(), Some(STANDARD.encode([7u8; 32])));
        assert!(other.open_all().unwrap_err().to_string().contains("master key"));
        let short = Vault::new(home.path(), Some(STANDARD.encode([7u8; 8])));
        assert!(format!("{:#}", short.open_all().unwrap_err()).contains("STEWARD_MASTER_KEY: must be 32 bytes"));

        assert!(vault.remove("smtp").unwrap());
        assert!(!vault.remove("smtp").unwrap());
        assert_eq!(vault.names().unwrap(), ["anthropic"]);
        assert!(check_name("bad name").is_err() && check_name("SLACK_BOT_TOKEN").is_ok());
    }
}
