//! `steward restore FILE`: puts a backup (`steward backup`) back into a
//! stopped home. Everything is checked before anything is replaced: the
//! archive against its manifest (sizes and SHA-256), the database with
//! SQLite's integrity check and against the migrations this binary knows.
//! The home's lock is held throughout, so a `serve` cannot start halfway,
//! and a running one makes the restore refuse, `--force` or not. An
//! existing database is replaced only with `--force`, and then kept beside
//! as `steward.db.before-restore-<time>` (its WAL too) rather than deleted.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use steward_domain::Clock;
use steward_server::api::ErrorCode;
use steward_store::sqlite::backup as database_backup;

use crate::backup_archive::{self, DATABASE, HOME_PREFIX};
use crate::commands::backup::{STAGING_PREFIX, counts_json, counts_text, sqlite_database};
use crate::config::{Config, Overrides};
use crate::failure::CliFailure;
use crate::options::{GlobalOptions, HomeOptions};
use crate::output::{print_json, say};
use crate::vault::{KEY_FILE, MASTER_KEY_VARIABLE, Vault};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  steward restore steward-2026-12-06.tar --home /srv/steward\n  steward restore \
                        steward-2026-12-06.tar --force   (replaces the database; the old one is kept beside it)")]
pub struct RestoreArgs {
    /// The archive `steward backup` wrote.
    pub file: PathBuf,
    /// Replace the home's existing database and files (the database is kept as steward.db.before-restore-…).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub home: HomeOptions,
}

pub async fn run(args: RestoreArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let config =
        Config::load(&Overrides { home: args.home.home, database_url: args.home.database, ..Overrides::default() })?;
    let database = sqlite_database(&config, "restore", "pg_restore --clean --dbname \"$DATABASE_URL\" steward.dump")?;
    if !args.file.is_file() {
        return Err(CliFailure::not_found(format!("there is no backup at {}", args.file.display())).into());
    }
    std::fs::create_dir_all(&config.home).with_context(|| format!("cannot create {}", config.home.display()))?;
    let home = config.home.clone();
    let force = args.force;
    let file = args.file.clone();
    let restored = tokio::task::spawn_blocking(move || restore(&file, &home, &database, force)).await??;

    // Whether the secrets open here: with the key in the archive, the key
    // already in this home, or STEWARD_MASTER_KEY.
    let vault = Vault::of_home(&config.home);
    let secrets = vault.names().map(|names| names.len()).unwrap_or(0);
    let secrets_open = secrets == 0 || vault.open_all().is_ok();
    if global.json {
        print_json(&json!({
            "home": config.home,
            "database": restored.database,
            "schema_version": restored.summary.schema_version,
            "counts": counts_json(&restored.summary),
            "files": restored.files,
            "backup_created_at": restored.created_at,
            "replaced_database_kept_at": restored.kept,
            "secrets": secrets,
            "secrets_open": secrets_open,
        }));
    } else {
        say!(
            "restored {} (made {}) into {}: {} and {} files",
            args.file.display(),
            restored.created_at,
            config.home.display(),
            counts_text(&restored.summary),
            restored.files
        );
        if let Some(kept) = &restored.kept {
            say!("the database it replaced is kept at {}", kept.display());
        }
    }
    if !secrets_open {
        eprintln!(
            "warning: {secrets} secrets were restored sealed, and the master key here does not open them: put the \
             original home's {KEY_FILE} in {} or set {MASTER_KEY_VARIABLE} before `steward serve`",
            config.home.display()
        );
    }
    Ok(())
}

struct Restored {
    database: PathBuf,
    summary: database_backup::DatabaseSummary,
    files: usize,
    created_at: chrono::DateTime<chrono::Utc>,
    kept: Option<PathBuf>,
}

fn restore(file: &Path, home: &Path, database: &Path, force: bool) -> anyhow::Result<Restored> {
    // Held until the end: `serve` cannot open the database meanwhile.
    let _lock = steward_store::sqlite::lock_exclusively(database).map_err(|error| CliFailure {
        code: ErrorCode::Unavailable.as_str(),
        message: format!("{error}; restore never replaces a database in use, even with --force"),
        field: None,
    })?;
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(home)
        .with_context(|| format!("cannot write in {}", home.display()))?;
    let manifest = backup_archive::unpack(file, staging.path())?;
    let snapshot = staging.path().join(DATABASE);
    let summary =
        database_backup::verify(&snapshot).with_context(|| format!("{} holds a damaged database", file.display()))?;

    let home_entries: Vec<(&backup_archive::Entry, PathBuf)> = manifest
        .entries
        .iter()
        .filter_map(|entry| Some((entry, PathBuf::from(entry.path.strip_prefix(HOME_PREFIX)?))))
        .collect();
    if !force {
        let mut in_the_way = Vec::new();
        if std::fs::metadata(database).is_ok_and(|metadata| metadata.len() > 0) {
            in_the_way.push(database.display().to_string());
        }
        for (entry, relative) in &home_entries {
            let target = home.join(relative);
            if let Ok(bytes) = std::fs::read(&target)
                && bytes != std::fs::read(staging.path().join(&entry.path))?
            {
                in_the_way.push(target.display().to_string());
            }
        }
        if !in_the_way.is_empty() {
            return Err(CliFailure {
                code: ErrorCode::AlreadyExists.as_str(),
                message: format!(
                    "{} already has data the backup would replace ({}); pass --force to replace it (the database is \
                     kept beside as {DATABASE}.before-restore-…)",
                    home.display(),
                    in_the_way.join(", ")
                ),
                field: Some("--force".into()),
            }
            .into());
        }
    }

    let mut kept = None;
    if database.exists() {
        let suffix = format!(".before-restore-{}", steward_domain::SystemClock.now().format("%Y%m%dT%H%M%S"));
        // The WAL and shared-memory files belong to the old database: left
        // in place, SQLite would apply them to the restored one.
        for companion in ["", "-wal", "-shm"] {
            let from = with_suffix(database, companion);
            if from.exists() {
                let to = with_suffix(database, &format!("{companion}{suffix}"));
                std::fs::rename(&from, &to).with_context(|| format!("cannot move {} aside", from.display()))?;
                if companion.is_empty() {
                    kept = Some(to);
                }
            }
        }
    }
    move_into_place(&snapshot, database, 0o600)?;
    for (entry, relative) in &home_entries {
        move_into_place(&staging.path().join(&entry.path), &home.join(relative), entry.mode)?;
    }
    Ok(Restored {
        database: database.to_path_buf(),
        summary,
        files: home_entries.len(),
        created_at: manifest.created_at,
        kept,
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// Moves `from` to `to` (replacing it) with the permission bits `mode`;
/// copies when they are on different file systems.
fn move_into_place(from: &Path, to: &Path, mode: u32) -> anyhow::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(from, std::fs::Permissions::from_mode(mode))?;
    }
    let _ = mode;
    if std::fs::rename(from, to).is_err() {
        std::fs::copy(from, to).with_context(|| format!("cannot write {}", to.display()))?;
    }
    Ok(())
}
