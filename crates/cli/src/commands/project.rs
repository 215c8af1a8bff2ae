//! `steward project …` and `steward idea …`: spec-driven projects. Add one
//! from a brief (or an idea), list, show with its documents and tasks,
//! propose a phase's document from a JSON file, approve or send it back
//! with a comment, edit an approved one (re-planning only the tasks it
//! affects); import a spec-kit or Kiro folder (parsed here, no model:
//! lines it cannot read are listed with their line numbers) and export one
//! to a folder in the same layout, checkboxes reflecting task state. With
//! `--agent`, the agent writes the documents; `run` queues the tasks.
//! `quick` is the light path ([`super::project_quick`]).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use steward_domain::project::markdown::{self, SpecFiles};
use steward_domain::project::{DesignDocument, PhaseGates, RequirementsDocument, SpecLayout, TasksDocument};
use steward_server::api::GuardianPolicyBody;
use steward_server::api::projects::{
    CreateIdeaRequest, CreateProjectRequest, IdeaListResponse, IdeaResponse, ImportedDocuments, ProjectListResponse,
    ProjectResponse, ProposeDocumentRequest, RejectDocumentRequest, UpdateProjectRequest,
};

use super::project_guardian::GuardianFlags;
use crate::client::ApiClient;
use crate::failure::CliFailure;
use crate::input::{AgentRef, parse_agent, parse_id, resolve_agent};
use crate::options::GlobalOptions;
use crate::output::{self, local_time, or_dash, print_json, say, truncate};

#[derive(Debug, clap::Subcommand)]
pub enum ProjectCommand {
    /// Add a project from a brief; it starts in the requirements phase.
    New {
        title: String,
        #[arg(long, default_value = "")]
        brief: String,
        /// A git repository (a path) tasks work in.
        #[arg(long, value_name = "PATH")]
        repo: Option<String>,
        /// Let every phase's document through without a person.
        #[arg(long)]
        automatic: bool,
        /// How many tasks may run at once.
        #[arg(long, value_name = "N")]
        parallel: Option<u32>,
        /// The idea it is made from.
        #[arg(long, value_parser = parse_id)]
        idea: Option<i64>,
        /// The agent (id or name) that writes each phase's document and works on the tasks.
        #[arg(long, value_parser = parse_agent)]
        agent: Option<AgentRef>,
        /// The agent (id or name) that checks each finished task (the project's agent by default).
        #[arg(long, value_parser = parse_agent)]
        validator: Option<AgentRef>,
        /// Times the validator may send a task back before a person decides (2 by default).
        #[arg(long, value_name = "N")]
        max_rounds: Option<u32>,
        /// A task an agent discovers joins the graph once a person approves it (approve, the default) or at once (allow).
        #[arg(long, value_name = "approve|allow")]
        discovered_tasks: Option<String>,
        /// A command run in each task's workspace after the validator passes it (`cargo test`); repeat for more.
        #[arg(long = "check", value_name = "COMMAND")]
        checks: Vec<String>,
        /// The guardian's policy for the project's runs (over the agent's and the configured one).
        #[command(flatten)]
        guardian: GuardianFlags,
    },
    /// Show the project's guardian policy, or change the fields given (project > agent > global).
    Policy {
        #[arg(value_parser = parse_id)]
        id: i64,
        #[command(flatten)]
        guardian: GuardianFlags,
        /// Drop every field first (the agent's or configured policy applies again), then apply the flags given.
        #[arg(long)]
        clear: bool,
    },
    /// The light path for small work: the agent writes requirements, design and tasks in one go,
    /// reviewed together at one gate (or let through with --auto).
    Quick(super::project_quick::QuickArgs),
    /// List projects and their phases.
    List,
    /// Show a project: its phase, documents and tasks.
    Show {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
    /// Change a project's settings: whether discovered tasks need approval,
    /// and its check commands (they apply from the next task on).
    Set {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// approve (a person approves each task an agent discovers) or allow.
        #[arg(long, value_name = "approve|allow")]
        discovered_tasks: Option<String>,
        /// A check command; repeat for more. Replaces the current list.
        #[arg(long = "check", value_name = "COMMAND")]
        checks: Vec<String>,
        /// Remove every check command.
        #[arg(long, conflicts_with = "checks")]
        no_checks: bool,
    },
    /// The task graph of a project, with each task's state.
    Status {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
    /// Propose the current phase's document from a JSON file (shaped by the phase's schema).
    Propose {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// requirements, design or tasks.
        #[arg(long)]
        phase: String,
        file: PathBuf,
    },
    /// Replace an approved document with an edited version from a JSON file;
    /// only the tasks it affects are re-planned (done tasks stay done unless their requirement changed).
    ///
    /// A task being worked on whose text changed is restarted: its run is stopped and its next run is
    /// told the new text; a result of the stopped run is not accepted.
    Edit {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// requirements, design or tasks.
        #[arg(long)]
        phase: String,
        file: PathBuf,
    },
    /// Approve the document waiting at the current phase's gate.
    Approve {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
    /// Send the waiting document back with a comment for its revision.
    Reject {
        #[arg(value_parser = parse_id)]
        id: i64,
        #[arg(long)]
        comment: String,
    },
    /// Run the tasks not done yet, each in its own workspace (resumes: done tasks are never run again).
    Run {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
    /// Import a spec-kit (spec.md, plan.md, tasks.md) or Kiro (requirements.md, design.md, tasks.md) folder.
    Import {
        dir: PathBuf,
        /// The project's title (the spec's by default).
        #[arg(long)]
        title: Option<String>,
    },
    /// Write a project's documents to a folder in its layout, task boxes checked when done.
    Export {
        #[arg(value_parser = parse_id)]
        id: i64,
        dir: PathBuf,
        /// spec-kit or kiro (the project's by default).
        #[arg(long)]
        layout: Option<String>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum IdeaCommand {
    /// Capture an idea.
    Add {
        title: String,
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// List ideas and their states.
    List,
}

pub async fn run(command: ProjectCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = match command {
        ProjectCommand::New {
            title,
            brief,
            repo,
            automatic,
            parallel,
            idea,
            agent,
            validator,
            max_rounds,
            discovered_tasks,
            checks,
            guardian,
        } => {
            let agent_id = match &agent {
                Some(agent) => Some(resolve_agent(&client, agent).await?),
                None => None,
            };
            let validator_id = match &validator {
                Some(validator) => Some(resolve_agent(&client, validator).await?),
                None => None,
            };
            let request = CreateProjectRequest {
                title,
                brief,
                repository: repo,
                gates: automatic.then_some(PhaseGates::AUTOMATIC),
                parallel_limit: parallel,
                layout: None,
                idea_id: idea,
                documents: None,
                done_tasks: Vec::new(),
                agent_id,
                validator_id,
                max_rounds,
                discovered_tasks,
                checks,
                quick: false,
                guardian: Some(guardian.over(GuardianPolicyBody::default()))
                    .filter(|policy| *policy != GuardianPolicyBody::default()),
            };
            client.post::<_, ProjectResponse>("/projects", &request).await?
        }
        ProjectCommand::Quick(args) => return super::project_quick::run(args, global).await,
        ProjectCommand::Policy { id, guardian, clear } => {
            return super::project_guardian::policy(&client, id, &guardian, clear, global.json).await;
        }
        ProjectCommand::List => {
            let reply = client.get::<ProjectListResponse>("/projects", &[]).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_list(&reply.body);
            }
            return Ok(());
        }
        ProjectCommand::Show { id } | ProjectCommand::Status { id } => {
            client.get::<ProjectResponse>(&format!("/projects/{id}"), &[]).await?
        }
        ProjectCommand::Set { id, discovered_tasks, checks, no_checks } => {
            let checks = if no_checks { Some(Vec::new()) } else { (!checks.is_empty()).then_some(checks) };
            let request = UpdateProjectRequest { discovered_tasks, checks };
            client.patch::<_, ProjectResponse>(&format!("/projects/{id}"), &request).await?
        }
        ProjectCommand::Propose { id, phase, file } => {
            let request = ProposeDocumentRequest { phase, document: read_json(&file)? };
            client.post::<_, ProjectResponse>(&format!("/projects/{id}/documents"), &request).await?
        }
        ProjectCommand::Edit { id, phase, file } => {
            let request = ProposeDocumentRequest { phase, document: read_json(&file)? };
            client.post::<_, ProjectResponse>(&format!("/projects/{id}/edit"), &request).await?
        }
        ProjectCommand::Approve { id } => {
            client.post_empty::<ProjectResponse>(&format!("/projects/{id}/approve")).await?
        }
        ProjectCommand::Reject { id, comment } => {
            let request = RejectDocumentRequest { comment };
            client.post::<_, ProjectResponse>(&format!("/projects/{id}/reject"), &request).await?
        }
        ProjectCommand::Run { id } => client.post_empty::<ProjectResponse>(&format!("/projects/{id}/run")).await?,
        ProjectCommand::Import { dir, title } => return import(&client, &dir, title, global).await,
        ProjectCommand::Export { id, dir, layout } => {
            let reply = client.get::<ProjectResponse>(&format!("/projects/{id}"), &[]).await?;
            let written = export(&reply.body, &dir, layout.as_deref())?;
            if global.json {
                print_json(&json!({ "project": reply.raw["id"], "dir": dir, "files": written }));
            } else {
                say!("Wrote {} to {}.", written.join(", "), dir.display());
            }
            return Ok(());
        }
    };
    if global.json {
        print_json(&reply.raw);
    } else {
        print_project(&reply.body);
    }
    Ok(())
}

pub async fn run_idea(command: IdeaCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    match command {
        IdeaCommand::Add { title, notes } => {
            let reply = client.post::<_, IdeaResponse>("/ideas", &CreateIdeaRequest { title, notes }).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                say!("Captured idea {}: {}", reply.body.id, reply.body.title);
            }
        }
        IdeaCommand::List => {
            let reply = client.get::<IdeaListResponse>("/ideas", &[]).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            let mut table = output::table(["ID", "STATE", "TITLE", "PROJECT"]);
            for idea in &reply.body.ideas {
                let project = idea.project_id.map(|id| id.to_string());
                table.add_row([
                    idea.id.to_string(),
                    idea.state.clone(),
                    truncate(&idea.title, 60),
                    or_dash(project.as_deref()),
                ]);
            }
            say!("{table}");
        }
    }
    Ok(())
}

fn read_json(file: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value = serde_json::from_str(&text)
        .map_err(|error| CliFailure::invalid("file", format!("{} is not JSON: {error}", file.display())))?;
    Ok(value)
}

/// Reads the folder's three files (a missing one reads as empty).
fn read_folder(dir: &Path) -> anyhow::Result<(SpecLayout, SpecFiles)> {
    let names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the folder {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.file_name().to_string_lossy().into_owned()))
        .collect();
    let layout = markdown::detect_layout(names.iter().map(String::as_str)).ok_or_else(|| {
        CliFailure::invalid(
            "dir",
            format!("{} has neither spec.md (spec-kit) nor requirements.md (Kiro)", dir.display()),
        )
    })?;
    let read = |name: &str| -> anyhow::Result<String> {
        let path = dir.join(name);
        if !path.exists() {
            return Ok(String::new());
        }
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    let [requirements, design, tasks] = layout.file_names();
    Ok((layout, SpecFiles { requirements: read(requirements)?, design: read(design)?, tasks: read(tasks)? }))
}

async fn import(client: &ApiClient, dir: &Path, title: Option<String>, global: &GlobalOptions) -> anyhow::Result<()> {
    let (layout, files) = read_folder(dir)?;
    let spec = markdown::import(layout, &files);
    let request = CreateProjectRequest {
        title: title.unwrap_or_else(|| spec.requirements.title.clone()),
        brief: spec.requirements.introduction.clone(),
        repository: None,
        gates: None,
        parallel_limit: None,
        layout: Some(layout.as_str().to_string()),
        idea_id: None,
        documents: Some(ImportedDocuments {
            requirements: serde_json::to_value(&spec.requirements)?,
            design: serde_json::to_value(&spec.design)?,
            tasks: serde_json::to_value(&spec.tasks)?,
        }),
        done_tasks: spec.done_tasks.clone(),
        agent_id: None,
        validator_id: None,
        max_rounds: None,
        discovered_tasks: None,
        guardian: None,
        checks: Vec::new(),
        quick: false,
    };
    let reply = client.post::<_, ProjectResponse>("/projects", &request).await?;
    let problems: Vec<serde_json::Value> = spec
        .problems
        .iter()
        .map(|problem| json!({ "file": problem.file, "line": problem.line, "text": problem.text, "reason": problem.reason }))
        .collect();
    if global.json {
        print_json(&json!({ "project": reply.raw, "problems": problems }));
        return Ok(());
    }
    let project = &reply.body;
    say!(
        "Imported {} ({}) as project {}: {} tasks, {} done.",
        dir.display(),
        layout,
        project.id,
        project.tasks.len(),
        spec.done_tasks.len()
    );
    if !spec.problems.is_empty() {
        say!("Lines not read (kept in the export):");
        for problem in &spec.problems {
            say!("  {problem}");
        }
    }
    Ok(())
}

/// The latest approved version of a phase's document, or an empty one with the project's title.
fn approved<T: serde::de::DeserializeOwned>(project: &ProjectResponse, phase: &str, empty: T) -> anyhow::Result<T> {
    let latest =
        project.documents.iter().filter(|d| d.phase == phase && d.status == "approved").max_by_key(|d| d.version);
    match latest {
        Some(document) => serde_json::from_value(document.document.clone())
            .with_context(|| format!("the server's {phase} document cannot be read")),
        None => Ok(empty),
    }
}

fn export(project: &ProjectResponse, dir: &Path, layout: Option<&str>) -> anyhow::Result<Vec<String>> {
    let layout: SpecLayout =
        layout.unwrap_or(&project.layout).parse().map_err(|error| CliFailure::invalid("layout", format!("{error}")))?;
    let title = project.title.clone();
    let requirements =
        approved(project, "requirements", RequirementsDocument { title: title.clone(), ..Default::default() })?;
    let design = approved(project, "design", DesignDocument { title: title.clone(), ..Default::default() })?;
    let tasks = approved(project, "tasks", TasksDocument { title, ..Default::default() })?;
    let is_done = |id: &str| project.tasks.iter().any(|task| task.id == id && task.state == "done");
    let files = markdown::export(layout, &requirements, &design, &tasks, &is_done);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let names = layout.file_names();
    for (name, text) in names.iter().zip([&files.requirements, &files.design, &files.tasks]) {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(names.iter().map(|name| name.to_string()).collect())
}

fn print_list(list: &ProjectListResponse) {
    if list.projects.is_empty() {
        say!("No projects yet. Start one: steward project new \"Title\" --brief \"…\", or steward project import DIR");
        return;
    }
    let mut table = output::table(["ID", "PHASE", "TITLE", "LAYOUT", "UPDATED"]);
    for project in &list.projects {
        table.add_row([
            project.id.to_string(),
            project.phase.clone(),
            truncate(&project.title, 60),
            project.layout.clone(),
            local_time(project.updated_at),
        ]);
    }
    say!("{table}");
}

fn print_project(project: &ProjectResponse) {
    let phase = if project.quick {
        format!("{} (quick: the three documents written in one go, reviewed at one gate)", project.phase)
    } else {
        project.phase.clone()
    };
    let record = output::record(vec![
        ("Project", format!("{} {}", project.id, project.title)),
        ("Phase", phase),
        ("Gates", project.gates.to_string()),
        ("Repository", or_dash(project.repository.as_deref())),
        ("Parallel", project.parallel_limit.to_string()),
        ("Agent", or_dash(project.agent_id.map(|id| id.to_string()).as_deref())),
        ("Guardian", or_dash(super::project_guardian::summary(&project.guardian).as_deref())),
        ("Discovered tasks", project.discovered_tasks.clone()),
        ("Checks", or_dash(Some(project.checks.join("; ")).as_deref().filter(|text| !text.is_empty()))),
        ("Failure", or_dash(project.failure.as_deref())),
    ]);
    say!("{record}");
    for document in &project.documents {
        let comment = document.comment.as_deref().map(|c| format!(": {}", truncate(c, 80))).unwrap_or_default();
        say!("  {} v{} {}{comment}", document.phase, document.version, document.status);
    }
    if project.documents.iter().any(|document| document.status == "proposed") {
        say!(
            "  Decide: steward project approve {}, or steward project reject {} --comment \"…\" \
             (it waits in the approvals inbox too: steward approvals)",
            project.id,
            project.id
        );
    }
    if project.tasks.is_empty() {
        return;
    }
    let mut table = output::table(["TASK", "STATE", "AFTER", "P", "ROUNDS", "TITLE"]);
    for task in &project.tasks {
        table.add_row([
            task.id.clone(),
            task.state.clone(),
            or_dash(Some(task.depends_on.join(", ")).as_deref().filter(|text| !text.is_empty())),
            if task.parallel { "P".into() } else { String::new() },
            task.rounds.to_string(),
            truncate(&task.title, 60),
        ]);
    }
    say!("{table}");
    let started = project.tasks.iter().any(|task| task.job_id.is_some());
    if project.phase == "execution" && !started {
        say!("Next: steward project run {}", project.id);
    }
}
