//! `steward backup FILE` and `steward restore FILE`: a consistent copy of a
//! home while `serve` runs, and putting one back into a stopped home.
//!
//! The database is copied with SQLite's online backup API
//! (`steward_store::sqlite::backup`), as of one instant; the home's files
//! follow (a file written during the backup may be newer than the
//! database's record of it). The master key is left out unless
//! `--include-master-key`: the archive then holds the secrets sealed but
//! not the key that opens them, so a stolen backup gives no secrets away,
//! and the key is kept elsewhere (a password manager) or given to the
//! restored home as `STEWARD_MASTER_KEY`. PostgreSQL databases are backed
//! up with `pg_dump`; this command refuses them rather than write an
//! archive without its database.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use steward_domain::Clock;
use steward_store::DatabaseUrl;
use steward_store::sqlite::backup::{self as database_backup, DatabaseSummary};

use crate::backup_archive::{ArchiveWriter, DATABASE, HOME_PREFIX, Manifest};
use crate::config::{Config, Overrides};
use crate::failure::CliFailure;
use crate::options::{GlobalOptions, HomeOptions};
use crate::output::{print_json, say};
use crate::vault::{KEY_FILE, Vault};

#[derive(Debug, clap::Args)]
#[command(after_help = "What is in it: the database (a snapshot as of one instant, taken while `serve` runs) and \
                        every file of the home (config.toml, secrets.json, skills/, workspaces/, artifacts/…) except \
                        the lock, server.json, cache/ and master.key.\n\nThe master key stays out unless \
                        --include-master-key: the secrets travel sealed, and a copy of the archive alone opens none \
                        of them. Keep master.key (or STEWARD_MASTER_KEY) somewhere else.\n\nPostgreSQL: back the \
                        database up with `pg_dump --format=custom`, and the home's files with any file backup.\n\n\
                        Examples:\n  steward backup ~/backups/steward-$(date +%F).tar\n  steward restore \
                        ~/backups/steward-2026-12-06.tar --home /srv/steward")]
pub struct BackupArgs {
    /// The archive to write (a tar file; it must not exist yet).
    pub file: PathBuf,
    /// Put master.key in the archive too (anyone with the archive can then open the secrets).
    #[arg(long)]
    pub include_master_key: bool,
    #[command(flatten)]
    pub home: HomeOptions,
}

/// The home's files that are not copied: the database (copied through
/// SQLite) and what belongs to one running process or can be rebuilt.
const NOT_COPIED: &[&str] = &["server.json", "cache"];

/// The folders `backup` and `restore` work in start with this; one left by
/// an interrupted command is never copied.
pub const STAGING_PREFIX: &str = ".steward-staging-";

pub async fn run(args: BackupArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let config =
        Config::load(&Overrides { home: args.home.home, database_url: args.home.database, ..Overrides::default() })?;
    let database =
        sqlite_database(&config, "back up", "pg_dump --format=custom --file steward.dump \"$DATABASE_URL\"")?;
    let file = absolute(&args.file)?;
    if file.exists() {
        return Err(CliFailure {
            code: steward_server::api::ErrorCode::AlreadyExists.as_str(),
            message: format!("{} exists already; a backup never overwrites a file", file.display()),
            field: Some("FILE".into()),
        }
        .into());
    }
    if !database.exists() {
        return Err(CliFailure::not_found(format!(
            "there is no database at {}; nothing to back up (is --home right?)",
            database.display()
        ))
        .into());
    }
    let directory = file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(&directory)
        .with_context(|| format!("cannot write in {}", directory.display()))?;
    let snapshot = staging.path().join(DATABASE);
    let summary = tokio::task::spawn_blocking({
        let (database, snapshot) = (database.clone(), snapshot.clone());
        move || database_backup::snapshot(&database, &snapshot)
    })
    .await??;

    let created_at = steward_domain::SystemClock.now();
    let mut skip: Vec<PathBuf> = vec![staging.path().to_path_buf(), file.clone(), database.clone()];
    for suffix in ["-wal", "-shm", ".lock"] {
        let mut path = database.clone().into_os_string();
        path.push(suffix);
        skip.push(path.into());
    }
    skip.extend(NOT_COPIED.iter().map(|name| config.home.join(name)));
    if !args.include_master_key {
        skip.push(config.home.join(KEY_FILE));
    }
    let mut home_files = Vec::new();
    let mut skipped_links = Vec::new();
    collect_files(&config.home, &config.home, &skip, &mut home_files, &mut skipped_links)?;
    home_files.sort();

    // Written beside its final name, and renamed once complete: a backup
    // that is interrupted leaves no file that looks whole.
    let partial = staging.path().join("archive.tar");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let archive = options.open(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    let mut writer =
        ArchiveWriter::new(archive, Manifest::new(created_at, summary.schema_version, args.include_master_key));
    writer.add_file(DATABASE, &snapshot)?;
    for relative in &home_files {
        writer.add_file(&format!("{HOME_PREFIX}{}", relative.display()), &config.home.join(relative))?;
    }
    let manifest = writer.finish()?;
    std::fs::rename(&partial, &file).with_context(|| format!("cannot write {}", file.display()))?;
    let bytes = std::fs::metadata(&file).map(|metadata| metadata.len()).unwrap_or(0);

    let secrets = Vault::of_home(&config.home).names().map(|names| names.len()).unwrap_or(0);
    if global.json {
        print_json(&json!({
            "file": file,
            "bytes": bytes,
            "created_at": manifest.created_at,
            "schema_version": summary.schema_version,
            "counts": counts_json(&summary),
            "files": home_files.len(),
            "secrets": secrets,
            "master_key_included": args.include_master_key,
            "skipped_links": skipped_links,
        }));
    } else {
        say!(
            "wrote {} ({bytes} bytes): the database at schema version {}, and {} files of {}",
            file.display(),
            summary.schema_version,
            home_files.len(),
            config.home.display()
        );
        say!("it holds {}", counts_text(&summary));
        if secrets > 0 && !args.include_master_key {
            say!(
                "{secrets} secrets are in it sealed; keep the master key ({}) apart, restoring them needs it",
                config.home.join(KEY_FILE).display()
            );
        }
        for link in &skipped_links {
            say!("skipped the symbolic link {} (copy what it points to yourself)", link.display());
        }
    }
    Ok(())
}

/// The SQLite database file of `config`, or a refusal naming what to use for PostgreSQL.
pub fn sqlite_database(config: &Config, verb: &str, postgres_tool: &str) -> anyhow::Result<PathBuf> {
    match config.database()? {
        DatabaseUrl::Sqlite(path) => Ok(path),
        DatabaseUrl::Postgres(_) => Err(CliFailure::invalid(
            "--database",
            format!(
                "the database is PostgreSQL, which Steward does not {verb} itself: use `{postgres_tool}`, and a file \
                 backup for the home ({})",
                config.home.display()
            ),
        )
        .into()),
    }
}

/// Rows by table, as the JSON answers show them.
pub fn counts_json(summary: &DatabaseSummary) -> serde_json::Value {
    summary.counts.iter().map(|(table, count)| ((*table).to_string(), json!(count))).collect()
}

pub fn counts_text(summary: &DatabaseSummary) -> String {
    summary.counts.iter().map(|(table, count)| format!("{count} {table}")).collect::<Vec<_>>().join(", ")
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_absolute() { Ok(path.to_path_buf()) } else { Ok(std::env::current_dir()?.join(path)) }
}

/// Every regular file under `directory` (relative to `home`), except those
/// in `skip`; symbolic links are listed apart, never followed.
fn collect_files(
    home: &Path,
    directory: &Path,
    skip: &[PathBuf],
    files: &mut Vec<PathBuf>,
    links: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", directory.display())),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let staging = entry.file_name().to_string_lossy().starts_with(STAGING_PREFIX);
        if staging || skip.contains(&path) {
            continue;
        }
        let kind = entry.file_type()?;
        let relative = path.strip_prefix(home).unwrap_or(&path).to_path_buf();
        if kind.is_symlink() {
            links.push(relative);
        } else if kind.is_dir() {
            collect_files(home, &path, skip, files, links)?;
        } else if kind.is_file() {
            files.push(relative);
        }
    }
    Ok(())
}
