//! `steward user add|list|remove` and `steward token create|list|revoke`:
//! users and API tokens, written straight into the home's database (being
//! able to open it is the authority). A token is printed once and only its
//! hash is kept. On SQLite the database belongs to one process at a time:
//! run these while `serve` is stopped (they say so otherwise).

use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};
use steward_domain::auth::{ApiToken, NewToken, NewUser, Scope, TokenKind, User};
use steward_server::auth::secrets;
use steward_store::Store;

use crate::config::{Config, Overrides};
use crate::failure::CliFailure;
use crate::input::{parse_duration, read_line};
use crate::options::{GlobalOptions, HomeOptions};
use crate::output::{confirm, optional_time, print_json, say, table};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the dashboard password is read from standard input (empty: no password).
    Add {
        name: String,
        /// May do everything, including what needs the admin scope.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        home: HomeOptions,
    },
    /// List the users.
    List {
        #[command(flatten)]
        home: HomeOptions,
    },
    /// Remove a user and their tokens (refused while they own jobs, agents or
    /// other records).
    Remove {
        name: String,
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        home: HomeOptions,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; it is printed once.
    Create {
        /// The user the token acts for.
        #[arg(long)]
        user: String,
        /// What the token is for (`laptop`, `ci`).
        #[arg(long)]
        name: String,
        /// read, write (the default) or admin.
        #[arg(long, default_value = "write", value_parser = crate::input::parse_wire::<Scope>)]
        scope: Scope,
        /// The token stops working after this long (`30d`, `12h`).
        #[arg(long, value_parser = parse_duration)]
        expires_in: Option<std::time::Duration>,
        #[command(flatten)]
        home: HomeOptions,
    },
    /// List the API tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        home: HomeOptions,
    },
    /// Revoke a token by id.
    Revoke {
        #[arg(value_parser = crate::input::parse_id)]
        id: i64,
        #[command(flatten)]
        home: HomeOptions,
    },
}

async fn open(home: HomeOptions) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let config = Config::load(&Overrides { home: home.home, database_url: home.database, ..Overrides::default() })?;
    std::fs::create_dir_all(&config.home)?;
    let clock = steward_runtime::SharedClock::system();
    crate::commands::serve::open_store(&config, &clock)
        .await
        .context("on SQLite, stop `steward serve` first: its database belongs to one process at a time")
}

fn user_json(user: &User) -> Value {
    json!({ "id": user.id.get(), "name": user.name, "admin": user.admin, "has_password": user.has_password,
            "created_at": user.created_at })
}

fn token_json(token: &ApiToken) -> Value {
    json!({ "id": token.id, "user": token.user_name, "name": token.name, "scope": token.scope.as_str(),
            "created_at": token.created_at, "expires_at": token.expires_at, "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at })
}

pub async fn run_user(command: UserCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { name, admin, home } => {
            let new = NewUser { name, admin };
            new.validate().map_err(|error| CliFailure::invalid(error.field, error.message))?;
            let password = read_line("password (empty for none): ").await?.unwrap_or_default();
            let hash = if password.is_empty() {
                None
            } else {
                Some(secrets::hash_password(&password).map_err(|error| anyhow::anyhow!("cannot hash: {error}"))?)
            };
            let store = open(home).await?;
            let user = store.create_user(new, hash).await;
            store.close().await;
            let user = user?;
            if global.json {
                print_json(&user_json(&user));
            } else {
                say!("added user {} (id {}){}", user.name, user.id.get(), if user.admin { ", an admin" } else { "" });
            }
        }
        UserCommand::List { home } => {
            let store = open(home).await?;
            let users = store.list_users().await;
            store.close().await;
            let users = users?;
            if global.json {
                print_json(&json!({ "users": users.iter().map(user_json).collect::<Vec<_>>() }));
            } else {
                let mut rows = table(["ID", "NAME", "ADMIN", "PASSWORD", "CREATED"]);
                for user in &users {
                    rows.add_row([
                        user.id.get().to_string(),
                        user.name.clone(),
                        if user.admin { "yes" } else { "no" }.into(),
                        if user.has_password { "yes" } else { "no" }.into(),
                        crate::output::local_time(user.created_at),
                    ]);
                }
                say!("{rows}");
            }
        }
        UserCommand::Remove { name, yes, home } => {
            confirm(&format!("Remove the user {name:?} and their tokens?"), "remove a user", yes)?;
            let store = open(home).await?;
            let user = store.remove_user(&name).await;
            store.close().await;
            let user = user?;
            if global.json {
                print_json(&user_json(&user));
            } else {
                say!("removed user {} and their tokens", user.name);
            }
        }
    }
    Ok(())
}

pub async fn run_token(command: TokenCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { user, name, scope, expires_in, home } => {
            let store = open(home).await?;
            let created = create(&*store, &user, name, scope, expires_in).await;
            store.close().await;
            let (secret, token) = created?;
            if global.json {
                let mut document = token_json(&token);
                document["token"] = json!(secret);
                print_json(&document);
            } else {
                say!(
                    "token {} for {} (scope {}); it is shown only now:\n{secret}",
                    token.id,
                    token.user_name,
                    token.scope
                );
                say!("store it for this CLI with: steward login   (paste the token)");
            }
        }
        TokenCommand::List { home } => {
            let store = open(home).await?;
            let tokens = store.list_tokens(None, TokenKind::Api).await;
            store.close().await;
            let tokens = tokens?;
            if global.json {
                print_json(&json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() }));
            } else {
                let mut rows = table(["ID", "USER", "NAME", "SCOPE", "EXPIRES", "LAST USED", "REVOKED"]);
                for token in &tokens {
                    rows.add_row([
                        token.id.to_string(),
                        token.user_name.clone(),
                        token.name.clone(),
                        token.scope.to_string(),
                        optional_time(token.expires_at),
                        optional_time(token.last_used_at),
                        optional_time(token.revoked_at),
                    ]);
                }
                say!("{rows}");
            }
        }
        TokenCommand::Revoke { id, home } => {
            let store = open(home).await?;
            let token = store.revoke_token(None, id).await;
            store.close().await;
            let token = token?;
            if global.json {
                print_json(&token_json(&token));
            } else {
                say!("revoked token {} ({} of {})", token.id, token.name, token.user_name);
            }
        }
    }
    Ok(())
}

async fn create(
    store: &dyn Store,
    user: &str,
    name: String,
    scope: Scope,
    expires_in: Option<std::time::Duration>,
) -> anyhow::Result<(String, ApiToken)> {
    let (found, _) = store
        .user_with_password(user)
        .await?
        .ok_or_else(|| CliFailure::invalid("--user", format!("there is no user {user:?} (see: steward user list)")))?;
    let expires_at = expires_in
        .map(|duration| {
            chrono::Duration::from_std(duration)
                .map(|duration| steward_domain::Clock::now(&steward_domain::SystemClock) + duration)
        })
        .transpose()
        .map_err(|_| CliFailure::invalid("--expires-in", "is too long"))?;
    let secret = secrets::new_token();
    let new = NewToken { user_id: found.id, kind: TokenKind::Api, name, scope, expires_at };
    let token = store.create_token(new, secrets::hash_token(&secret)).await?;
    Ok((secret, token))
}
