//! `steward project quick "BRIEF"`: the light path for small work. The
//! project's agent writes requirements, design and tasks in one call; the
//! command waits for them and says what was written (how many
//! requirements, criteria, tasks) and the next step: approve or send the
//! three back together, or — through automatic gates (`--auto`) — run the
//! tasks.

use std::time::{Duration, Instant};

use serde_json::Value;
use steward_domain::project::PhaseGates;
use steward_server::api::projects::{CreateProjectRequest, ProjectResponse};
use steward_server::api::{AgentListResponse, GuardianPolicyBody};

use super::project_guardian::GuardianFlags;
use crate::client::ApiClient;
use crate::failure::{AlreadyShown, CliFailure, FAILED};
use crate::input::{AgentRef, parse_agent, parse_duration, resolve_agent};
use crate::options::GlobalOptions;
use crate::output::{print_json, say};

/// The longest title taken from a brief's first line.
const TITLE_CHARS: usize = 80;

#[derive(Debug, clap::Args)]
pub struct QuickArgs {
    /// What to build, in a few sentences; the agent writes the three documents from it.
    pub brief: String,
    /// The project's title (the brief's first line by default).
    #[arg(long)]
    pub title: Option<String>,
    /// The agent (id or name) that writes the documents and works on the tasks (your only agent by default).
    #[arg(long, value_parser = parse_agent)]
    pub agent: Option<AgentRef>,
    /// A git repository (a path) tasks work in.
    #[arg(long, value_name = "PATH")]
    pub repo: Option<String>,
    /// A command run in each task's workspace after the validator passes it (`cargo test`); repeat for more.
    #[arg(long = "check", value_name = "COMMAND")]
    pub checks: Vec<String>,
    /// Let the three documents through without a person; the project goes straight to execution.
    #[arg(long)]
    pub auto: bool,
    /// How many tasks may run at once.
    #[arg(long, value_name = "N")]
    pub parallel: Option<u32>,
    /// How long to wait for the agent's documents (`0` returns at once).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub wait: Duration,
    /// The guardian's policy for the project's runs (over the agent's and the configured one).
    #[command(flatten)]
    pub guardian: GuardianFlags,
}

/// A title from the brief: its first line, cut at a word near the limit.
pub fn title_from(brief: &str) -> String {
    let line = brief.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or_default();
    let line = line.trim_end_matches(['.', ':', ';']);
    if line.chars().count() <= TITLE_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(TITLE_CHARS - 1).collect();
    let at_word = cut.rfind(' ').filter(|at| *at > TITLE_CHARS / 2).map_or(cut.as_str(), |at| &cut[..at]);
    format!("{}…", at_word.trim_end())
}

/// The agent named, or the user's only agent.
async fn agent_for(client: &ApiClient, agent: Option<&AgentRef>) -> anyhow::Result<i64> {
    if let Some(agent) = agent {
        return resolve_agent(client, agent).await;
    }
    let agents = client.get::<AgentListResponse>("/agents", &[]).await?.body.agents;
    match agents.as_slice() {
        [only] => Ok(only.id.get()),
        [] => Err(CliFailure::invalid(
            "--agent",
            "a quick project needs an agent to write its documents; create one: steward agent create NAME --goal \"…\"",
        )
        .into()),
        many => Err(CliFailure::invalid(
            "--agent",
            format!("you have {} agents; say which writes the documents with --agent NAME", many.len()),
        )
        .into()),
    }
}

pub async fn run(args: QuickArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let agent_id = agent_for(&client, args.agent.as_ref()).await?;
    let title = args.title.unwrap_or_else(|| title_from(&args.brief));
    let request = CreateProjectRequest {
        title,
        brief: args.brief,
        repository: args.repo,
        gates: args.auto.then_some(PhaseGates::AUTOMATIC),
        parallel_limit: args.parallel,
        layout: None,
        idea_id: None,
        documents: None,
        done_tasks: Vec::new(),
        agent_id: Some(agent_id),
        validator_id: None,
        max_rounds: None,
        discovered_tasks: None,
        checks: args.checks,
        quick: true,
        guardian: Some(args.guardian.over(GuardianPolicyBody::default()))
            .filter(|policy| *policy != GuardianPolicyBody::default()),
    };
    let created = client.post::<_, ProjectResponse>("/projects", &request).await?;
    let id = created.body.id;
    let (project, raw) = wait_for_documents(&client, id.get(), created.body, created.raw, args.wait).await?;
    let written = written(&project);
    if global.json {
        print_json(&raw);
        if let (Some(failure), None) = (&project.failure, &written) {
            return Err(AlreadyShown { message: failure.clone() }.into());
        }
        return Ok(());
    }
    match (written, &project.failure) {
        (Some(written), _) => print_written(&project, &written),
        (None, Some(failure)) => {
            return Err(CliFailure {
                code: FAILED,
                message: format!("project {id}: {failure}; send it again with a clearer brief, or write the documents: steward project propose {id} --phase requirements FILE"),
                field: None,
            }
            .into());
        }
        (None, None) => say!(
            "Project {id} \"{}\" added; its agent is still writing the three documents. Follow it: steward project show {id}",
            project.title
        ),
    }
    Ok(())
}

/// Polls the project until the three documents are written (waiting at the
/// gate, or through it) or the agent's failure is recorded, at most `wait`.
async fn wait_for_documents(
    client: &ApiClient,
    id: i64,
    mut project: ProjectResponse,
    mut raw: Value,
    wait: Duration,
) -> anyhow::Result<(ProjectResponse, Value)> {
    let deadline = Instant::now() + wait;
    while written(&project).is_none() && project.failure.is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let reply = client.get::<ProjectResponse>(&format!("/projects/{id}"), &[]).await?;
        (project, raw) = (reply.body, reply.raw);
    }
    Ok((project, raw))
}

/// What the agent wrote: the latest version of each document, when all three are there.
struct Written {
    requirements: usize,
    criteria: usize,
    open_questions: usize,
    properties: usize,
    diagrams: usize,
    tasks: usize,
    parallel: usize,
    /// Whether they wait at the gate (else they went through it).
    waiting: bool,
}

fn written(project: &ProjectResponse) -> Option<Written> {
    let latest = |phase: &str| {
        project.documents.iter().filter(|d| d.phase == phase && d.status != "rejected").max_by_key(|d| d.version)
    };
    let (requirements, design, tasks) = (latest("requirements")?, latest("design")?, latest("tasks")?);
    let count = |value: &Value| value.as_array().map_or(0, Vec::len);
    let listed = requirements.document["requirements"].as_array().cloned().unwrap_or_default();
    let task_list = tasks.document["tasks"].as_array().cloned().unwrap_or_default();
    Some(Written {
        requirements: listed.len(),
        criteria: listed.iter().map(|requirement| count(&requirement["criteria"])).sum(),
        open_questions: count(&requirements.document["open_questions"]),
        properties: count(&design.document["properties"]),
        diagrams: count(&design.document["diagrams"]),
        tasks: task_list.len(),
        parallel: task_list.iter().filter(|task| task["parallel"] == true).count(),
        waiting: requirements.status == "proposed",
    })
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn print_written(project: &ProjectResponse, written: &Written) {
    let id = project.id;
    say!("Project {id} \"{}\": the agent wrote the three documents in one go.", project.title);
    let questions = match written.open_questions {
        0 => String::new(),
        count => format!(", {}", plural(count, "open question", "open questions")),
    };
    say!(
        "  requirements  {} with {}{questions}",
        plural(written.requirements, "requirement", "requirements"),
        plural(written.criteria, "acceptance criterion", "acceptance criteria")
    );
    say!(
        "  design        {}, {}",
        plural(written.properties, "correctness property", "correctness properties"),
        plural(written.diagrams, "diagram", "diagrams")
    );
    say!("  tasks         {}, {} in parallel", plural(written.tasks, "task", "tasks"), written.parallel);
    if written.waiting {
        say!("They wait together at one gate. Read them: steward project show {id}");
        say!("  approve all three:  steward project approve {id}");
        say!("  send them back:     steward project reject {id} --comment \"what to change\"");
        say!("  or decide in the approvals inbox with the rest: steward approvals");
    } else {
        say!("They passed the automatic gates; the project is in {}. Next: steward project run {id}", project.phase);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_the_brief_s_first_line_cut_at_a_word() {
        assert_eq!(title_from("Add a dark mode.\nThe settings page gets a switch."), "Add a dark mode");
        assert_eq!(title_from("\n  Fix the login  \n"), "Fix the login");
        let long = "Make the export write every file atomically so that a crash in the middle never leaves half a spec";
        let title = title_from(long);
        assert!(title.ends_with('…') && title.chars().count() <= TITLE_CHARS, "{title}");
        assert!(title.starts_with("Make the export write every file atomically"), "{title}");
        assert!(!title.trim_end_matches('…').ends_with(' '), "cut at a word: {title}");
    }
}
