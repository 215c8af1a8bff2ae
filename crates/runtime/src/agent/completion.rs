//! Completions: a conversation sent by a client of the OpenAI chat API,
//! answered by an agent with its own tools.
//!
//! The client owns the conversation (it sends all of it each time), so one
//! completion is one run of the agent whose instruction is the conversation;
//! the run brings the agent's tools, approvals, traces, limits and budget.
//! The new user message and the answer are also kept in the agent's chat,
//! so the conversation shows with the agent's others. The answer's cost is
//! counted once, on the run.
//!
//! A client that disconnects stops listening, not the work: the run is a job
//! like any other and the follower that copies its answer to the chat runs
//! to the end, through any approval the run waits for. (A follower lives in
//! the server's process: an answer that comes after a restart is on the run
//! but not copied to the chat.)

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use steward_domain::{
    Agent, ChatRole, ConversationKind, NewChatMessage, NewRun, Run, RunLimits, RunOutcome, RunStatus, StepKind, UserId,
    ValidationError,
};
use steward_store::{Store, StoreError};
use tokio::sync::mpsc;

use super::chat::ChatError;
use super::runtime::AgentRuntime;
use super::steps::ToolCallContent;

/// Events a completion may get ahead of a slow client before it waits.
const EVENT_BUFFER: usize = 64;
/// How often a follower looks at the run without a wake-up (a safety net
/// for a missed one, e.g. another node's commit on PostgreSQL).
const POLL: Duration = Duration::from_secs(1);
/// The same, while the run waits for a person (which may take days).
const POLL_WHILE_PAUSED: Duration = Duration::from_secs(30);

/// Who said a message of the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    /// Instructions from the client (`system` and `developer`).
    Client,
    User,
    Agent,
}

/// A conversation as a client sends it, oldest message first.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    pub messages: Vec<(Speaker, String)>,
}

impl Conversation {
    /// The user's newest message: what the agent answers.
    fn last_user_message(&self) -> Result<&str, ValidationError> {
        match self.messages.last() {
            Some((Speaker::User, text)) if !text.trim().is_empty() => Ok(text),
            Some((Speaker::User, _)) => {
                Err(ValidationError::new(format!("messages[{}].content", self.messages.len() - 1), "must not be empty"))
            }
            Some(_) => Err(ValidationError::new(
                format!("messages[{}].role", self.messages.len() - 1),
                "the last message must be the user's: it is what the agent answers",
            )),
            None => Err(ValidationError::new("messages", "must hold at least one message")),
        }
    }

    /// The run's instruction: the user's message alone when it is the whole
    /// conversation, else the conversation as a transcript ending with it.
    fn instruction(&self) -> Result<String, ValidationError> {
        let last = self.last_user_message()?;
        if self.messages.len() == 1 {
            return Ok(last.to_string());
        }
        let mut text = String::new();
        let instructions: Vec<&str> = self
            .messages
            .iter()
            .filter(|(speaker, _)| *speaker == Speaker::Client)
            .map(|(_, text)| text.as_str())
            .collect();
        if !instructions.is_empty() {
            text.push_str("Instructions from the client you are talking through:\n");
            text.push_str(&instructions.join("\n\n"));
            text.push_str("\n\n");
        }
        let earlier: Vec<&(Speaker, String)> = self.messages[..self.messages.len() - 1]
            .iter()
            .filter(|(speaker, _)| *speaker != Speaker::Client)
            .collect();
        if !earlier.is_empty() {
            text.push_str("The conversation so far, oldest first:\n");
            for (speaker, said) in earlier {
                let who = if *speaker == Speaker::User { "User" } else { "You" };
                text.push_str(&format!("{who}: {said}\n"));
            }
            text.push('\n');
        }
        text.push_str("Answer the user's newest message:\n");
        text.push_str(last);
        Ok(text)
    }
}

/// What a completion streams while the agent works.
#[derive(Clone, Debug, PartialEq)]
pub enum CompletionEvent {
    /// A short note on a tool call the agent made.
    Progress { note: String },
    /// The run is over or paused; the completion ends with it.
    Finished(Box<CompletionResult>),
}

/// How a completion ended.
#[derive(Clone, Debug, PartialEq)]
pub struct CompletionResult {
    /// The run as it ended (usage, outcome, output).
    pub run: Run,
    /// What the client is told: the agent's answer, or why there is none.
    pub answer: String,
    pub ending: Ending,
}

/// Why the answer ends where it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The agent answered.
    Answered,
    /// A limit (steps, tokens, cost, time, budget) stopped the run.
    Limit,
    /// The run failed or was cancelled.
    Failed,
    /// A tool call waits for a person's approval; the run resumes when it
    /// is decided, and its answer then shows on the run and in the chat.
    AwaitingApproval,
}

/// A completion under way: its run, and the events to follow.
pub struct Completion {
    pub agent: Agent,
    pub run: Run,
    pub events: mpsc::Receiver<CompletionEvent>,
}

impl AgentRuntime {
    /// Starts answering `conversation` with the agent named `agent_name`:
    /// checks everything before storing anything, stores the user's newest
    /// message in the agent's chat, starts the run, and follows it.
    pub async fn complete(
        &self,
        user: UserId,
        agent_name: &str,
        conversation: Conversation,
        limits: RunLimits,
    ) -> Result<Completion, ChatError> {
        let agent = self.store.find_agent_by_name(user, agent_name).await?;
        if agent.status == steward_domain::AgentStatus::Archived {
            return Err(ChatError::NotAllowed(format!("agent {} is archived", agent.name)));
        }
        let model = self.model_for(&agent)?;
        if let Some(stop) = self.budget_stop(user, &agent, model.id()).await? {
            return Err(ChatError::OverBudget(stop.reason));
        }
        let said = conversation.last_user_message()?.to_string();
        let run = NewRun {
            agent_id: agent.id,
            action_id: None,
            instruction: conversation.instruction()?,
            limits,
            run_at: None,
        };
        run.validate().map_err(|error| match error.field.as_str() {
            "instruction" => ValidationError::new("messages", error.message),
            _ => error,
        })?;
        let chat = self.store.conversation_for(user, ConversationKind::Agent, agent.id, None).await?;
        self.store.append_message(user, chat.id, NewChatMessage::from_user(said)).await?;
        let run = self.store.start_run(user, run).await?;
        let (sender, events) = mpsc::channel(EVENT_BUFFER);
        let follower = Follower { store: self.store.clone(), user, run: run.clone(), chat: chat.id, sender };
        tokio::spawn(steward_store::actor::acting_as(steward_store::actor::current(), follower.follow()));
        Ok(Completion { agent, run, events })
    }
}

/// Follows one completion's run to its end, telling the client about tool
/// calls, then keeps the answer in the agent's chat.
struct Follower {
    store: Arc<dyn Store>,
    user: UserId,
    run: Run,
    chat: steward_domain::ConversationId,
    sender: mpsc::Sender<CompletionEvent>,
}

impl Follower {
    async fn follow(self) {
        // The client hears of the first pause; the answer is kept once the
        // run finishes, however long its approval takes.
        let mut paused = false;
        loop {
            let result = match self.until_settled(paused).await {
                Ok(result) => result,
                Err(error) => {
                    tracing::warn!(run = %self.run.id, %error, "stopped following a completion's run");
                    return;
                }
            };
            if result.ending == Ending::AwaitingApproval {
                let _ = self.sender.send(CompletionEvent::Finished(Box::new(result))).await;
                paused = true;
                continue;
            }
            let reply = NewChatMessage {
                role: ChatRole::Assistant,
                text: result.answer.clone(),
                data: json!({ "run_id": result.run.id, "via": "chat_completions" }),
                cost: Default::default(),
            };
            if let Err(error) = self.store.append_message(self.user, self.chat, reply).await {
                tracing::warn!(run = %self.run.id, %error, "could not keep a completion's answer in the chat");
            }
            if !paused {
                let _ = self.sender.send(CompletionEvent::Finished(Box::new(result))).await;
            }
            return;
        }
    }

    /// Waits for the run to finish, or (unless it already did, `paused`)
    /// to pause for an approval, sending a note for each tool call as its
    /// step is stored.
    async fn until_settled(&self, paused: bool) -> Result<CompletionResult, StoreError> {
        let store = &self.store;
        // Subscribed before the first read, so a commit between the read
        // and the wait still wakes it.
        let mut wake = store.wakeups().subscribe_events();
        // Steps are numbered 0, 1, 2 … with no gaps: those below `seen` are told.
        let mut seen = 0;
        let poll = if paused { POLL_WHILE_PAUSED } else { POLL };
        loop {
            wake.borrow_and_update();
            let run = store.get_run(self.user, self.run.id).await?;
            if run.steps > seen {
                // Told up to the last step listed, which may be past the
                // count read above: a step stored in between is not told twice.
                let told = seen;
                for step in store.list_steps(self.user, run.id).await?.iter().filter(|step| step.sequence >= told) {
                    if step.kind == StepKind::ToolCall && !paused {
                        let _ = self.sender.send(CompletionEvent::Progress { note: note_for(step) }).await;
                    }
                    seen = seen.max(step.sequence + 1);
                }
            }
            if let Some(result) = settled(run)
                && !(paused && result.ending == Ending::AwaitingApproval)
            {
                return Ok(result);
            }
            let _ = tokio::time::timeout(poll, wake.changed()).await;
        }
    }
}

/// The completion's result once the run is over or paused.
fn settled(run: Run) -> Option<CompletionResult> {
    let (answer, ending) = match (run.status, run.outcome) {
        (RunStatus::Finished, Some(RunOutcome::Completed)) => {
            (run.output.clone().unwrap_or_default(), Ending::Answered)
        }
        (RunStatus::Finished, Some(outcome @ (RunOutcome::Cancelled | RunOutcome::Failed))) => {
            (format!("The run ended ({outcome}): {}", run.error.clone().unwrap_or_default()), Ending::Failed)
        }
        (RunStatus::Finished, outcome) => {
            let why = run.error.clone().unwrap_or_else(|| outcome.map(|o| o.to_string()).unwrap_or_default());
            let partial = run.output.clone().map(|text| format!("\n\n{text}")).unwrap_or_default();
            (format!("The run stopped at a limit: {why}{partial}"), Ending::Limit)
        }
        (RunStatus::AwaitingApproval, _) => (
            format!(
                "Run {} waits for a person to approve a tool call (`steward approvals`, or the dashboard's \
                 Approvals page); its answer will show on the run and in this agent's chat.",
                run.id
            ),
            Ending::AwaitingApproval,
        ),
        _ => return None,
    };
    Some(CompletionResult { run, answer, ending })
}

/// A one-line note on a tool call: its name, and whether it failed.
fn note_for(step: &steward_domain::RunStep) -> String {
    let content: Option<ToolCallContent> = serde_json::from_value(step.content.clone()).ok();
    let tool = content.as_ref().map(|content| content.tool.as_str()).unwrap_or(step.name.as_str());
    match &step.error {
        Some(error) => format!("used {tool}: failed ({})", first_line(error)),
        None => format!("used {tool}"),
    }
}

fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(120) {
        Some((cut, _)) => &line[..cut],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(messages: &[(Speaker, &str)]) -> Conversation {
        Conversation { messages: messages.iter().map(|(speaker, text)| (*speaker, text.to_string())).collect() }
    }

    #[test]
    fn a_single_message_is_the_instruction_itself() {
        let single = conversation(&[(Speaker::User, "Summarise the week")]);
        assert_eq!(single.instruction().unwrap(), "Summarise the week");
    }

    #[test]
    fn a_longer_conversation_becomes_a_transcript_ending_with_the_newest_message() {
        let longer = conversation(&[
            (Speaker::Client, "Answer in French."),
            (Speaker::User, "Hi"),
            (Speaker::Agent, "Bonjour"),
            (Speaker::User, "What is due today?"),
        ]);
        let instruction = longer.instruction().unwrap();
        assert!(instruction.starts_with("Instructions from the client you are talking through:\nAnswer in French."));
        assert!(instruction.contains("User: Hi\nYou: Bonjour\n"), "{instruction}");
        assert!(instruction.ends_with("Answer the user's newest message:\nWhat is due today?"), "{instruction}");
        assert_eq!(instruction.matches("What is due today?").count(), 1, "{instruction}");
    }

    #[test]
    fn the_last_message_must_be_a_users_with_words() {
        let error = conversation(&[]).instruction().unwrap_err();
        assert_eq!(error.field, "messages");
        let error = conversation(&[(Speaker::User, "Hi"), (Speaker::Agent, "Hello")]).instruction().unwrap_err();
        assert_eq!(error.field, "messages[1].role");
        let error = conversation(&[(Speaker::User, "  ")]).instruction().unwrap_err();
        assert_eq!(error.field, "messages[0].content");
    }
}
