//! `steward agent new`: the setup chat. A short conversation draws out the
//! agent's goal, success criteria and timeline; once the model says it has
//! enough, the fields are shown and the agent is created when the person
//! confirms (or keeps talking to change them). The conversation is kept
//! with the agent.

use steward_server::api::{AgentProposalBody, AgentResponse, ConfirmSetupRequest, SetupChatRequest, SetupChatResponse};

use crate::client::ApiClient;
use crate::input::read_line;
use crate::options::GlobalOptions;
use crate::output::{self, print_json, say};

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Say this first (repeat for several turns); the rest is read from the terminal or stdin.
    #[arg(long = "message", short, value_name = "TEXT")]
    pub messages: Vec<String>,
    /// Create the agent as soon as the chat has enough, without asking.
    #[arg(long, short)]
    pub yes: bool,
    /// The agent's model, as provider/model (default: the configured one).
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub model: Option<String>,
    /// Standing instructions for the agent.
    #[arg(long)]
    pub instructions: Option<String>,
}

pub async fn run(args: NewArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let mut scripted = args.messages.into_iter();
    let mut conversation = None;
    if !global.json {
        say!("Let's set up an agent. What should it achieve? (an empty line or Ctrl-D stops)");
    }
    let mut next = next_message(&mut scripted, "you> ").await?;
    // With --json, the turns and the agent are printed as one document at the end.
    let mut turns = Vec::new();
    loop {
        let Some(message) = next.take() else {
            return stopped(conversation);
        };
        let request = SetupChatRequest { conversation_id: conversation, message };
        let reply = client.post::<_, SetupChatResponse>("/agents/setup-chat", &request).await?;
        let turn = reply.body;
        conversation = Some(turn.conversation_id);
        if global.json {
            turns.push(reply.raw);
        } else {
            say!("agent> {}", turn.message.text);
        }
        let proposal = match (turn.ready, turn.proposal) {
            (true, Some(proposal)) => proposal,
            _ => {
                next = next_message(&mut scripted, "you> ").await?;
                continue;
            }
        };
        if !global.json {
            print_proposal(&proposal);
        }
        let create = if args.yes {
            true
        } else {
            match next_message(&mut scripted, "Create this agent? [y = yes, or keep talking to change it] ").await? {
                Some(answer) if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") => true,
                answer => {
                    next = answer;
                    false
                }
            }
        };
        if create {
            let request = ConfirmSetupRequest {
                model: args.model.clone(),
                instructions: args.instructions.clone(),
                ..ConfirmSetupRequest::default()
            };
            let path = format!("/agents/setup-chat/{}/confirm", turn.conversation_id);
            let agent = client.post::<_, AgentResponse>(&path, &request).await?;
            if global.json {
                print_json(&serde_json::json!({ "setup_chat": turns, "agent": agent.raw }));
            } else {
                say!(
                    "Created agent {} ({}). Talk to it: steward chat {}",
                    agent.body.id,
                    agent.body.name,
                    agent.body.id
                );
            }
            return Ok(());
        }
    }
}

/// The next scripted message, else a line from stdin; `None` when the
/// person is done (an empty line or the end of input).
async fn next_message(scripted: &mut impl Iterator<Item = String>, prompt: &str) -> anyhow::Result<Option<String>> {
    if let Some(message) = scripted.next() {
        return Ok(Some(message));
    }
    Ok(read_line(prompt).await?.filter(|line| !line.trim().is_empty()))
}

fn stopped(conversation: Option<steward_domain::ConversationId>) -> anyhow::Result<()> {
    match conversation {
        Some(id) => anyhow::bail!("no agent was created (the setup chat is conversation {id})"),
        None => anyhow::bail!("no agent was created: say what it should achieve"),
    }
}

fn print_proposal(proposal: &AgentProposalBody) {
    let rows = vec![
        ("name", proposal.name.clone()),
        ("goal", proposal.goal.clone()),
        ("success criteria", output::bullets(&proposal.success_criteria)),
        ("timeline", output::or_dash(proposal.timeline.as_deref())),
    ];
    say!("{}", output::record(rows));
}
