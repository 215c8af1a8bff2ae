//! `steward sync`: living documentation. `install-hook` adds the
//! post-commit hook (and attaches the documents to an agent's context),
//! `record-commit` is what the hook runs, `run` asks an agent to fold the
//! commits since the last sync into each document (a proposal shown as a
//! diff, or applied with `--apply`), `apply` applies the pending
//! proposals, `status` shows where each document stands.
//!
//! Git and files are read here, in the CLI's process (the repository is
//! local); the agent runs on the server like any run, started through the
//! API (`POST /agents/{id}/runs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use steward_domain::living_docs::{DEFAULT_DOCUMENTS, changelog::short_id};
use steward_domain::{Clock, SystemClock};
use steward_runtime::living_docs::{self, LivingDocsError, LivingDocsSettings, Repo, hook};
use steward_server::api::{CreateRunRequest, EnqueueJobRequest, RunOutcome, RunResponse};

use crate::client::ApiClient;
use crate::config::{Config, Overrides};
use crate::failure::{AlreadyShown, CliFailure};
use crate::input::{AgentRef, parse_agent, resolve_agent};
use crate::options::GlobalOptions;
use crate::output::{print_json, say, table};

/// How long the hook waits for a server that accepted the connection
/// before giving up quietly (one that is down refuses at once).
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Subcommand)]
pub enum SyncCommand {
    /// Install the post-commit hook (appended to an existing one; running it twice changes nothing).
    #[command(after_help = "Examples:\n  steward sync install-hook . --agent Architect\n  \
                            steward sync install-hook ~/src/app --agent Architect --document docs/DESIGN.md")]
    InstallHook(InstallHookArgs),
    /// What the hook runs: record HEAD in CHANGELOG_RECENT.md and tell a running server (never fails on a server that is down).
    RecordCommit(RecordCommitArgs),
    /// Ask an agent to fold the commits since the last sync into the documents; shows the diff, --apply writes it.
    #[command(
        after_help = "Examples:\n  steward sync run . --agent Architect\n  steward sync run . --agent Architect --apply"
    )]
    Run(RunArgs),
    /// Apply the proposals `sync run` left pending.
    Apply(ApplyArgs),
    /// Each document's last sync, commits not folded in yet, pending proposals, and the hook.
    Status(StatusArgs),
}

#[derive(Debug, clap::Args)]
pub struct InstallHookArgs {
    /// The repository (any folder inside its working tree).
    pub repo: PathBuf,
    /// The agent whose context carries the documents (and who the hook's notices name).
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
    /// A document to attach, inside the repository (repeatable; default ARCHITECTURE.md and DESIGN.md).
    #[arg(long = "document", value_name = "PATH")]
    pub documents: Vec<String>,
    /// Steward's data directory, where the attachment is saved.
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RecordCommitArgs {
    pub repo: PathBuf,
    /// The commit (default HEAD).
    #[arg(long)]
    pub commit: Option<String>,
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    pub repo: PathBuf,
    /// The agent that writes the documents (id or name).
    #[arg(long, value_parser = parse_agent, value_name = "AGENT")]
    pub agent: AgentRef,
    /// A document to sync (repeatable; default those of ARCHITECTURE.md and DESIGN.md that exist, else ARCHITECTURE.md).
    #[arg(long = "document", value_name = "PATH")]
    pub documents: Vec<String>,
    /// Write the new text at once instead of leaving a proposal for `steward sync apply`.
    #[arg(long)]
    pub apply: bool,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    pub repo: PathBuf,
    #[arg(long = "document", value_name = "PATH")]
    pub documents: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    pub repo: PathBuf,
    #[arg(long = "document", value_name = "PATH")]
    pub documents: Vec<String>,
}

pub async fn run(command: SyncCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    match command {
        SyncCommand::InstallHook(args) => install(args, global),
        SyncCommand::RecordCommit(args) => record(args, global).await,
        SyncCommand::Run(args) => sync(args, global).await,
        SyncCommand::Apply(args) => apply(args, global),
        SyncCommand::Status(args) => status(args, global),
    }
}

/// A runtime error as the CLI reports it: bad input names its field.
fn failure(error: LivingDocsError) -> anyhow::Error {
    match error {
        LivingDocsError::Invalid(invalid) => CliFailure::invalid(invalid.field.clone(), invalid.to_string()).into(),
        LivingDocsError::NotARepository { .. } => CliFailure::invalid("REPO", error.to_string()).into(),
        LivingDocsError::Changed { .. } => CliFailure { code: "stale", message: error.to_string(), field: None }.into(),
        other => other.into(),
    }
}

fn open(repo: &Path) -> anyhow::Result<Repo> {
    Repo::open(repo).map_err(failure)
}

fn install(args: InstallHookArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let repo = open(&args.repo)?;
    let steward = std::env::current_exe()?;
    let mut command = format!(
        "{} sync record-commit \"$(git rev-parse --show-toplevel)\"",
        hook::shell_quote(&steward.to_string_lossy())
    );
    if let Some(agent) = &args.agent {
        command.push_str(&format!(" --agent {}", hook::shell_quote(agent)));
    }
    let installed = living_docs::install_hook(&repo, &command).map_err(failure)?;
    let attached = match &args.agent {
        Some(agent) => {
            let documents = if args.documents.is_empty() {
                DEFAULT_DOCUMENTS.iter().map(ToString::to_string).collect()
            } else {
                args.documents.clone()
            };
            let config = Config::load(&Overrides { home: args.home.clone(), ..Overrides::default() })?;
            LivingDocsSettings::attach(&config.home, agent, repo.root(), &documents).map_err(failure)?;
            Some(
                json!({"agent": agent, "documents": documents, "setting": config.home.join(living_docs::attachments::SETTINGS_FILE)}),
            )
        }
        None => None,
    };
    if global.json {
        print_json(&json!({"repo": repo.root(), "hook": installed, "attached": attached}));
        return Ok(());
    }
    let done = match installed.change {
        living_docs::HookChange::Created => "Installed",
        living_docs::HookChange::Appended => "Added to the existing",
        living_docs::HookChange::Updated => "Updated Steward's lines in",
        living_docs::HookChange::Unchanged => "Already installed:",
    };
    say!("{done} post-commit hook {}", installed.path.display());
    if let Some(attached) = attached {
        say!("{} now carries {} in its context.", attached["agent"], attached["documents"]);
    }
    Ok(())
}

async fn record(args: RecordCommitArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let repo = open(&args.repo)?;
    let (entry, written) = living_docs::record_commit(&repo, args.commit.as_deref()).map_err(failure)?;
    let notified = notify(&repo, &entry.commit, args.agent.as_deref(), global).await;
    if global.json {
        let (notified, reason) = match notified {
            Ok(job) => (json!(job), Value::Null),
            Err(reason) => (Value::Null, json!(reason)),
        };
        print_json(&json!({"entry": entry, "recorded": written, "notified_job": notified, "not_notified": reason}));
    } else {
        say!("{}", entry.line());
    }
    Ok(())
}

/// Tells a running server about the commit (a `living_docs.commit` job,
/// once per repository and commit); the reason when it could not.
async fn notify(repo: &Repo, commit: &str, agent: Option<&str>, global: &GlobalOptions) -> Result<Value, String> {
    let client = ApiClient::new(&global.server_url().map_err(|error| error.to_string())?).map_err(|e| e.to_string())?;
    let mut request = EnqueueJobRequest::new(living_docs::COMMIT_JOB_KIND);
    request.payload = Some(json!({"repo": repo.root(), "commit": commit, "agent": agent}));
    request.idempotency_key = Some(format!("living-docs:{}:{commit}", repo.root().display()));
    request.max_attempts = Some(1);
    match tokio::time::timeout(NOTIFY_TIMEOUT, client.post::<_, Value>("/jobs", &request)).await {
        Ok(Ok(reply)) => Ok(reply.raw["job"]["id"].clone()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("the server did not answer within {NOTIFY_TIMEOUT:?}")),
    }
}

/// The documents a command works on: those named, else the defaults
/// that exist (else ARCHITECTURE.md, to be written).
fn documents(repo: &Repo, named: &[String]) -> Vec<String> {
    if !named.is_empty() {
        return named.to_vec();
    }
    let existing: Vec<String> =
        DEFAULT_DOCUMENTS.iter().filter(|name| repo.root().join(name).is_file()).map(ToString::to_string).collect();
    if existing.is_empty() { vec![DEFAULT_DOCUMENTS[0].to_string()] } else { existing }
}

async fn sync(args: RunArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let repo = open(&args.repo)?;
    let client = ApiClient::new(&global.server_url()?)?;
    let agent = resolve_agent(&client, &args.agent).await?;
    let mut reports = Vec::new();
    for document in documents(&repo, &args.documents) {
        let prepared = living_docs::prepare(&repo, &document).map_err(failure)?;
        if prepared.up_to_date() {
            if !global.json {
                say!("{document} is up to date (no commits since {}).", prepared.head.as_deref().map_or("—", short_id));
            }
            reports.push(json!({"document": document, "status": "up_to_date", "commits": 0}));
            continue;
        }
        if !global.json {
            say!("{document}: asking agent {agent} to fold in {} commits…", prepared.total_commits);
        }
        let request = CreateRunRequest {
            instruction: prepared.instruction.clone(),
            limits: None,
            at: None,
            delay_ms: None,
            deliver: Vec::new(),
        };
        let created = client.post::<_, RunResponse>(&format!("/agents/{agent}/runs"), &request).await?;
        let run = crate::commands::runs::follow(&client, created.body.id.get(), false).await?.run;
        let Some((RunOutcome::Completed, Some(output))) = run.outcome.map(|outcome| (outcome, run.output.clone()))
        else {
            let message = format!(
                "{document}: run {} did not complete ({}); the document is left as it was",
                run.id,
                run.error.as_deref().unwrap_or("no answer")
            );
            if global.json {
                print_json(&json!({"error": {"code": "failed", "message": message, "field": null}}));
                return Err(AlreadyShown { message }.into());
            }
            anyhow::bail!(message);
        };
        let proposal = living_docs::propose(&prepared, Some(&output), SystemClock.now()).map_err(failure)?;
        let (state, kept) = if args.apply {
            living_docs::apply(&proposal).map_err(failure)?;
            living_docs::sync::discard(&repo, &document).map_err(failure)?;
            ("applied", None)
        } else {
            ("proposed", Some(living_docs::sync::save(&repo, &proposal).map_err(failure)?))
        };
        if !global.json {
            say!("{}", proposal.diff.trim_end());
            match &kept {
                Some(_) => say!("Proposed (run {}). Apply it: steward sync apply {}", run.id, repo.root().display()),
                None => say!("Applied to {} (run {}).", proposal.path.display(), run.id),
            }
        }
        reports.push(json!({
            "document": document, "status": state, "run_id": run.id, "commits": prepared.total_commits,
            "diff": proposal.diff, "front_matter": proposal.sync, "proposal": kept,
        }));
    }
    if global.json {
        print_json(&json!({"repo": repo.root(), "documents": reports}));
    }
    Ok(())
}

fn apply(args: ApplyArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let repo = open(&args.repo)?;
    let names = if args.documents.is_empty() {
        DEFAULT_DOCUMENTS.iter().map(ToString::to_string).collect()
    } else {
        args.documents.clone()
    };
    let mut applied = Vec::new();
    for document in names {
        if let Some(proposal) = living_docs::sync::apply_pending(&repo, &document).map_err(failure)? {
            if !global.json {
                say!("Applied the proposal to {}.", proposal.path.display());
            }
            applied.push(json!({"document": document, "front_matter": proposal.sync}));
        }
    }
    if global.json {
        print_json(&json!({"repo": repo.root(), "applied": applied}));
    } else if applied.is_empty() {
        say!("No proposal is pending in {}.", repo.root().display());
    }
    Ok(())
}

fn status(args: StatusArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let repo = open(&args.repo)?;
    let report = living_docs::status(&repo, &args.documents).map_err(failure)?;
    if global.json {
        print_json(&serde_json::to_value(&report)?);
        return Ok(());
    }
    say!(
        "{} · HEAD {} · hook {} · {} in CHANGELOG_RECENT.md",
        report.repo.display(),
        report.head.as_deref().map_or("(no commits)", short_id),
        if report.hook_installed { "installed" } else { "not installed" },
        if report.changelog_entries == 1 {
            "1 entry".to_string()
        } else {
            format!("{} entries", report.changelog_entries)
        }
    );
    let mut rows = table(["DOCUMENT", "LAST SYNC", "AT COMMIT", "FOLDED IN", "NOT YET", "PROPOSAL"]);
    for document in &report.documents {
        rows.add_row([
            if document.exists { document.document.clone() } else { format!("{} (missing)", document.document) },
            document.sync.last_sync.map_or("never".into(), crate::output::local_time),
            document.sync.last_commit.as_deref().map_or("—".into(), |id| short_id(id).to_string()),
            document.sync.commits_since_sync.map_or("—".into(), |count| count.to_string()),
            document.pending_commits.to_string(),
            if document.proposal_pending { "pending".into() } else { "—".into() },
        ]);
    }
    say!("{rows}");
    Ok(())
}
