//! `steward service install --user`: a systemd user unit that runs
//! `steward serve` on this home, restarted when it fails and stopped with
//! SIGTERM (which `serve` answers by finishing its jobs within
//! `workers.shutdown_grace_secs`). `--print` shows the unit without writing
//! it. Only user units: a system-wide one needs root and a service account,
//! which is the administrator's to decide.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use crate::config::{Config, Overrides};
use crate::failure::CliFailure;
use crate::options::{GlobalOptions, HomeOptions};
use crate::output::{print_json, say, write_text};

/// The unit's file name.
const UNIT_NAME: &str = "steward.service";

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write (or --print) a systemd unit that runs `steward serve` on this home.
    #[command(after_help = "Examples:\n  steward service install --user --print\n  steward service install --user \
                            --home ~/steward\n  systemctl --user daemon-reload && systemctl --user enable --now \
                            steward\n  loginctl enable-linger \"$USER\"   (keeps it running after you log out)")]
    Install(InstallArgs),
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// A user unit, in ~/.config/systemd/user (the only kind written).
    #[arg(long)]
    pub user: bool,
    /// Print the unit instead of writing it.
    #[arg(long)]
    pub print: bool,
    #[command(flatten)]
    pub home: HomeOptions,
}

pub fn run(command: ServiceCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let ServiceCommand::Install(args) = command;
    if !args.user {
        return Err(CliFailure::invalid(
            "--user",
            "only user units are written (steward service install --user); for a system unit, copy the --print \
             output to /etc/systemd/system and add User= and Group=",
        )
        .into());
    }
    let config = Config::load(&Overrides {
        home: args.home.home.clone(),
        database_url: args.home.database.clone(),
        ..Overrides::default()
    })?;
    let home = absolute(&config.home)?;
    let binary = std::env::current_exe().context("cannot find the steward binary's path")?;
    let binary = binary.canonicalize().unwrap_or(binary);
    let grace = config.workers.shutdown_grace();
    let unit = unit_file(
        &binary,
        &home,
        args.home.database.is_some().then_some(config.database_url.as_str()),
        grace.as_secs(),
    );
    let path = unit_directory()?.join(UNIT_NAME);
    let next = [
        "systemctl --user daemon-reload".to_string(),
        "systemctl --user enable --now steward".to_string(),
        "loginctl enable-linger \"$USER\"   # to keep it running after you log out".to_string(),
    ];
    if args.print {
        if global.json {
            print_json(&json!({ "path": path, "unit": unit, "written": false }));
        } else {
            write_text(&unit);
        }
        return Ok(());
    }
    let directory = path.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&directory).with_context(|| format!("cannot create {}", directory.display()))?;
    let replaced = path.exists();
    std::fs::write(&path, &unit).with_context(|| format!("cannot write {}", path.display()))?;
    if global.json {
        print_json(&json!({ "path": path, "unit": unit, "written": true, "replaced": replaced, "next": next }));
    } else {
        say!("{} {}", if replaced { "replaced" } else { "wrote" }, path.display());
        say!("then:\n  {}", next.join("\n  "));
    }
    Ok(())
}

/// Where systemd looks for a user's units: `$XDG_CONFIG_HOME/systemd/user`.
fn unit_directory() -> anyhow::Result<PathBuf> {
    let config = dirs::config_dir().context("cannot find your configuration directory (set XDG_CONFIG_HOME)")?;
    Ok(config.join("systemd").join("user"))
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_absolute() { Ok(path.to_path_buf()) } else { Ok(std::env::current_dir()?.join(path)) }
}

/// The unit's text. The database URL is written only when given on the
/// command line (a PostgreSQL URL may carry a password: prefer
/// `database_url` in the home's config.toml, or an `EnvironmentFile=`).
pub fn unit_file(binary: &Path, home: &Path, database: Option<&str>, shutdown_grace_secs: u64) -> String {
    let mut exec = format!("{} serve --home {}", quote(&binary.to_string_lossy()), quote(&home.to_string_lossy()));
    if let Some(database) = database {
        let _ = write!(exec, " --database {}", quote(database));
    }
    format!(
        "# Written by `steward service install --user`; the home's layout is in README.md (Operating it).
[Unit]
Description=Steward, a self-hosted operating system for AI agents
After=network-online.target
Wants=network-online.target

[Service]
Type=exec
ExecStart={exec}
Environment=RUST_LOG=info
# SIGTERM: serve stops claiming jobs and lets running ones finish within
# workers.shutdown_grace_secs ({shutdown_grace_secs} s), then exits.
KillSignal=SIGTERM
TimeoutStopSec={stop}
Restart=on-failure
RestartSec=5s
# Secrets, the master key and the database are the owner's alone.
UMask=0077
NoNewPrivileges=yes
LimitNOFILE=65536

[Install]
WantedBy=default.target
",
        stop = shutdown_grace_secs + 15
    )
}

/// A word of `ExecStart=` as systemd reads it: `%` is a specifier, and a
/// word with spaces, quotes or backslashes is double-quoted with escapes.
fn quote(word: &str) -> String {
    let word = word.replace('%', "%%");
    if word.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@=,".contains(c)) && !word.is_empty() {
        return word;
    }
    let escaped = word.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_spaces_and_percent_signs_are_quoted_for_systemd() {
        assert_eq!(quote("/usr/bin/steward"), "/usr/bin/steward");
        assert_eq!(quote("/home/a b/100%"), "\"/home/a b/100%%\"");
        let unit = unit_file(Path::new("/opt/steward"), Path::new("/srv/my home"), None, 30);
        assert!(unit.contains("ExecStart=/opt/steward serve --home \"/srv/my home\"\n"), "{unit}");
        assert!(unit.contains("TimeoutStopSec=45\n"), "{unit}");
    }
}
