//! The backup archive: a plain tar file (so `tar tf` lists it) holding
//! `steward.db` (a snapshot of the database), `home/…` (the home's files)
//! and, last, `steward-backup.json`, the manifest with each entry's size,
//! SHA-256 and mode. An archive cut short has no manifest and is refused;
//! reading checks every entry against it before anything is restored, and
//! accepts only regular files under those names, so an archive cannot write
//! outside the folder it is unpacked in.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's name in the archive.
pub const MANIFEST: &str = "steward-backup.json";
/// The database snapshot's name in the archive.
pub const DATABASE: &str = "steward.db";
/// The folder the home's files are under in the archive.
pub const HOME_PREFIX: &str = "home/";
const FORMAT: &str = "steward-backup";
const FORMAT_VERSION: u32 = 1;

/// What the archive holds, written last into it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub steward_version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub schema_version: i64,
    /// Whether `home/master.key` is in the archive (see `steward backup --help`).
    pub master_key_included: bool,
    pub entries: Vec<Entry>,
}

/// One file of the archive.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub mode: u32,
}

impl Manifest {
    pub fn new(created_at: chrono::DateTime<chrono::Utc>, schema_version: i64, master_key_included: bool) -> Manifest {
        Manifest {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            steward_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at,
            schema_version,
            master_key_included,
            entries: Vec::new(),
        }
    }
}

/// Writes an archive entry by entry, recording each in the manifest.
pub struct ArchiveWriter {
    builder: tar::Builder<File>,
    manifest: Manifest,
}

impl ArchiveWriter {
    pub fn new(file: File, manifest: Manifest) -> ArchiveWriter {
        let mut builder = tar::Builder::new(file);
        builder.mode(tar::HeaderMode::Deterministic);
        ArchiveWriter { builder, manifest }
    }

    /// Adds `bytes` as `path` with the file mode `mode`.
    pub fn add(&mut self, path: &str, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(mode & 0o777);
        header.set_entry_type(tar::EntryType::Regular);
        self.builder.append_data(&mut header, path, bytes).with_context(|| format!("cannot add {path}"))?;
        self.manifest.entries.push(Entry {
            path: path.to_string(),
            bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
            mode: mode & 0o777,
        });
        Ok(())
    }

    /// Adds the file at `source` as `path`.
    pub fn add_file(&mut self, path: &str, source: &Path) -> anyhow::Result<()> {
        // Read whole, so a file that grows while it is copied cannot
        // disagree with the size in its header.
        let bytes = std::fs::read(source).with_context(|| format!("cannot read {}", source.display()))?;
        self.add(path, &bytes, file_mode(source))
    }

    /// Writes the manifest last and flushes the file to disk.
    pub fn finish(mut self) -> anyhow::Result<Manifest> {
        let manifest = serde_json::to_vec_pretty(&self.manifest)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(manifest.len() as u64);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        self.builder.append_data(&mut header, MANIFEST, manifest.as_slice())?;
        let mut file = self.builder.into_inner()?;
        file.flush()?;
        file.sync_all()?;
        Ok(self.manifest)
    }
}

/// The permission bits of `path` (0600 where they cannot be read).
pub fn file_mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(path) {
            return metadata.permissions().mode() & 0o777;
        }
    }
    let _ = path;
    0o600
}

/// Unpacks the archive at `archive` into the empty folder `into` and checks
/// it against its manifest: every entry listed, present, of its size and
/// SHA-256, and nothing else.
pub fn unpack(archive: &Path, into: &Path) -> anyhow::Result<Manifest> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut found: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut manifest_bytes = None;
    let mut entries = tar::Archive::new(file);
    for entry in entries.entries().with_context(|| format!("{} is not a tar archive", archive.display()))? {
        let mut entry = entry
            .with_context(|| format!("{} is not a Steward backup, or it is damaged or cut short", archive.display()))?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if entry.header().entry_type() == tar::EntryType::Directory {
            continue;
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            bail!("{}: {name} is not a regular file; a Steward backup holds only files", archive.display());
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).with_context(|| format!("{}: {name} is cut short", archive.display()))?;
        if name == MANIFEST {
            manifest_bytes = Some(bytes);
            continue;
        }
        let relative =
            safe_relative_path(&name).with_context(|| format!("{}: refusing the entry {name:?}", archive.display()))?;
        let target = into.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        write_new(&target, &bytes)?;
        if found.insert(name.clone(), (bytes.len() as u64, hex::encode(Sha256::digest(&bytes)))).is_some() {
            bail!("{}: {name} is in the archive twice", archive.display());
        }
    }
    let Some(manifest_bytes) = manifest_bytes else {
        bail!("{} has no {MANIFEST}: it is not a Steward backup, or it was cut short", archive.display());
    };
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .with_context(|| format!("{}: {MANIFEST} is damaged", archive.display()))?;
    if manifest.format != FORMAT || manifest.format_version > FORMAT_VERSION {
        bail!(
            "{}: a {} backup of format version {}, which this Steward ({}) cannot read",
            archive.display(),
            manifest.format,
            manifest.format_version,
            env!("CARGO_PKG_VERSION")
        );
    }
    for listed in &manifest.entries {
        match found.remove(&listed.path) {
            None => bail!("{}: {} is listed in {MANIFEST} but missing", archive.display(), listed.path),
            Some((bytes, sha256)) if bytes != listed.bytes || sha256 != listed.sha256 => {
                bail!(
                    "{}: {} does not match its checksum in {MANIFEST}; the archive is damaged",
                    archive.display(),
                    listed.path
                )
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = found.keys().next() {
        bail!("{}: {extra} is not listed in {MANIFEST}", archive.display());
    }
    if !manifest.entries.iter().any(|entry| entry.path == DATABASE) {
        bail!("{}: holds no {DATABASE}", archive.display());
    }
    Ok(manifest)
}

/// `steward.db` or `home/<relative path>` with ordinary components only.
fn safe_relative_path(name: &str) -> anyhow::Result<PathBuf> {
    if name != DATABASE && !name.starts_with(HOME_PREFIX) {
        bail!("only {DATABASE}, {MANIFEST} and files under {HOME_PREFIX} belong in a backup");
    }
    let path = PathBuf::from(name);
    if !path.components().all(|component| matches!(component, Component::Normal(_))) {
        bail!("the path must stay inside the archive's folder");
    }
    Ok(path)
}

fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive_with(entries: &[(&str, &[u8])], manifest: Option<&Manifest>) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut builder = tar::Builder::new(file.reopen().unwrap());
        for (path, bytes) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o600);
            // `append_data` refuses `..`; a hostile archive writes the name itself.
            header.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *bytes).unwrap();
        }
        if let Some(manifest) = manifest {
            let bytes = serde_json::to_vec(manifest).unwrap();
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o600);
            builder.append_data(&mut header, MANIFEST, bytes.as_slice()).unwrap();
        }
        builder.finish().unwrap();
        file
    }

    fn entry(path: &str, bytes: &[u8]) -> Entry {
        Entry { path: path.into(), bytes: bytes.len() as u64, sha256: hex::encode(Sha256::digest(bytes)), mode: 0o600 }
    }

    #[test]
    fn an_archive_unpacks_only_when_it_matches_its_manifest() {
        let mut manifest = Manifest::new(chrono::DateTime::UNIX_EPOCH, 1, false);
        manifest.entries = vec![entry(DATABASE, b"db"), entry("home/config.toml", b"x = 1")];
        let good = archive_with(&[(DATABASE, b"db"), ("home/config.toml", b"x = 1")], Some(&manifest));
        let into = tempfile::tempdir().unwrap();
        unpack(good.path(), into.path()).unwrap();
        assert_eq!(std::fs::read(into.path().join("home/config.toml")).unwrap(), b"x = 1");

        type Case<'a> = (&'a [(&'a str, &'a [u8])], bool, &'a str);
        let cases: &[Case] = &[
            (&[(DATABASE, b"db"), ("home/config.toml", b"x = 2")], true, "does not match its checksum"),
            (&[(DATABASE, b"db")], true, "listed in steward-backup.json but missing"),
            (&[(DATABASE, b"db"), ("home/config.toml", b"x = 1"), ("home/extra", b"")], true, "not listed"),
            (&[(DATABASE, b"db"), ("home/config.toml", b"x = 1")], false, "has no steward-backup.json"),
            (&[("home/../../escape", b"")], true, "refusing the entry"),
            (&[("/etc/passwd", b"")], true, "refusing the entry"),
        ];
        for (entries, with_manifest, expected) in cases {
            let archive = archive_with(entries, with_manifest.then_some(&manifest));
            let into = tempfile::tempdir().unwrap();
            let error = format!("{:#}", unpack(archive.path(), into.path()).unwrap_err());
            assert!(error.contains(expected), "{expected}: {error}");
        }
    }
}
