//! `steward secret set|list|remove`: secrets sealed in the home
//! (`vault.rs`), which configuration names as `secret:NAME`. A value is
//! read from standard input, never taken as an argument (arguments are
//! visible to other users in the process list and kept in shell history),
//! and never printed.

use std::io::Read;

use clap::Subcommand;
use serde_json::json;

use crate::config::{Config, Overrides};
use crate::failure::CliFailure;
use crate::options::{GlobalOptions, HomeOptions};
use crate::output::{print_json, say};
use crate::vault::{Vault, check_name};

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Stores a secret; its value is read from standard input.
    Set {
        name: String,
        #[command(flatten)]
        home: HomeOptions,
    },
    /// The names of the stored secrets (never their values).
    List {
        #[command(flatten)]
        home: HomeOptions,
    },
    /// Removes a secret.
    Remove {
        name: String,
        #[command(flatten)]
        home: HomeOptions,
    },
}

fn vault(home: HomeOptions) -> anyhow::Result<Vault> {
    let config = Config::load(&Overrides { home: home.home, database_url: home.database, ..Overrides::default() })?;
    Ok(Vault::of_home(&config.home))
}

pub fn run(command: SecretCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    match command {
        SecretCommand::Set { name, home } => {
            check_name(&name).map_err(|error| CliFailure::invalid("NAME", error.to_string()))?;
            let mut value = String::new();
            std::io::stdin().read_to_string(&mut value)?;
            let value = value.trim_end_matches(['\n', '\r']);
            if value.is_empty() {
                return Err(CliFailure::invalid("value", "standard input was empty; pipe the secret's value in").into());
            }
            vault(home)?.set(&name, value)?;
            if global.json {
                print_json(&json!({ "name": name, "stored": true }));
            } else {
                say!("stored the secret {name}; configuration reads it as \"secret:{name}\"");
            }
        }
        SecretCommand::List { home } => {
            let names = vault(home)?.names()?;
            if global.json {
                print_json(&json!({ "secrets": names }));
            } else if names.is_empty() {
                say!("no secrets (add one with: steward secret set NAME < file)");
            } else {
                for name in names {
                    say!("{name}");
                }
            }
        }
        SecretCommand::Remove { name, home } => {
            if !vault(home)?.remove(&name)? {
                return Err(
                    CliFailure::not_found(format!("there is no secret {name:?} (see: steward secret list)")).into()
                );
            }
            if global.json {
                print_json(&json!({ "name": name, "removed": true }));
            } else {
                say!("removed the secret {name}");
            }
        }
    }
    Ok(())
}
