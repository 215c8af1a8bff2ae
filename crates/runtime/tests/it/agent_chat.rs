//! Chats with agents against the fake provider: the setup chat that creates
//! an agent, drafts proposed in the agent's chat, refinement in a draft's
//! thread, and what chatting costs the agent.

use serde_json::json;
use steward_domain::{
    ActionMode, ActionPriority, ActionState, Budget, ChatRole, ConversationKind, RunLimits, RunOutcome, Spend,
};
use steward_fake_llm::{Reply, ReplyUsage};
use steward_runtime::agent::{ChatError, ChatEvent, RunProgress, SetupConfirmation};
use tokio::sync::mpsc;

use crate::agent_support::Harness;

/// The tool through which the client asks Anthropic models for structured output.
const STRUCTURED: &str = "structured_output";
use crate::support::USER;

async fn collect(mut events: mpsc::Receiver<ChatEvent>) -> Vec<ChatEvent> {
    let mut collected = Vec::new();
    while let Some(event) = events.recv().await {
        collected.push(event);
    }
    collected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_chat_draws_out_an_agent_and_creates_it_once_confirmed() {
    let h = Harness::start().await;
    h.fake.push(Reply::tool_call(
        STRUCTURED,
        &json!({ "reply": "What should the newsletter achieve, and by when?", "ready": false, "agent": null }),
    ));
    h.fake.push(Reply::tool_call(
        STRUCTURED,
        &json!({
            "reply": "Goal: 1,000 subscribers. Criteria: weekly issue, 40% opens. By June. Shall I create it?",
            "ready": true,
            "agent": { "name": "Newsletter", "goal": "Reach 1,000 subscribers",
                       "success_criteria": ["A weekly issue", "40% open rate"], "timeline": "by June" }
        }),
    ));
    let first = h.runtime.setup_chat(USER, None, "I want help with my newsletter".into()).await.unwrap();
    assert!(!first.ready);
    assert_eq!(first.message.text, "What should the newsletter achieve, and by when?");
    let second =
        h.runtime.setup_chat(USER, Some(first.conversation.id), "1,000 subscribers by June".into()).await.unwrap();
    assert!(second.ready);
    let proposal = second.proposal.clone().unwrap();
    assert_eq!(proposal.goal, "Reach 1,000 subscribers");
    // The second request carried the whole conversation so far.
    let sent = h.fake.requests()[1].body.to_string();
    assert!(sent.contains("I want help with my newsletter") && sent.contains("1,000 subscribers by June"));

    let changes = SetupConfirmation { name: Some("Weekly letter".into()), ..SetupConfirmation::default() };
    let agent = h.runtime.confirm_setup(USER, first.conversation.id, changes).await.unwrap();
    assert_eq!(agent.name, "Weekly letter", "the person's change wins");
    assert_eq!(agent.success_criteria, ["A weekly issue", "40% open rate"]);
    assert_eq!(agent.timeline.as_deref(), Some("by June"));
    let conversation = h.store.get_conversation(USER, first.conversation.id).await.unwrap();
    assert_eq!(conversation.agent_id, Some(agent.id), "the setup conversation is kept with the agent");
    // What the setup chat cost is the new agent's spending.
    for turn in [&first, &second] {
        assert_eq!((turn.message.cost.model_calls, turn.message.cost.unknown_cost_calls), (1, 0));
        assert!(turn.message.cost.cost_usd > 0.0, "{:?}", turn.message.cost);
    }
    let spent = h.store.agent_spend(USER, agent.id, None).await.unwrap();
    assert_eq!(
        spent,
        Spend { cost_usd: first.message.cost.cost_usd + second.message.cost.cost_usd, unknown_cost_calls: 0 }
    );
    assert!(h.runtime.setup_chat(USER, Some(first.conversation.id), "more".into()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_proposes_one_draft_at_a_time() {
    let h = Harness::start().await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(Reply::text("Here is a concrete next step.").then_tool_call(
        "propose_action",
        &json!({ "title": "Outline issue #1", "description": "Three sections, 600 words.", "priority": "high", "mode": "scheduled" }),
    ));
    h.fake.push(Reply::text(" I drafted it as an action."));
    let (sender, receiver) = mpsc::channel(64);
    let reply = h.runtime.chat(USER, agent.id, "What should we do first?".into(), sender).await.unwrap();
    let events = collect(receiver).await;
    let streamed: String = events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::Delta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, "Here is a concrete next step. I drafted it as an action.");
    let draft = events
        .iter()
        .find_map(|event| match event {
            ChatEvent::DraftProposed { action } => Some(action.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (draft.state, draft.priority, draft.mode),
        (ActionState::Draft, ActionPriority::High, ActionMode::Scheduled)
    );
    assert!(matches!(events.last(), Some(ChatEvent::Done { .. })));
    assert_eq!(reply.role, ChatRole::Assistant);
    assert_eq!(reply.data["draft_action_id"], draft.id.get());
    // Both model calls of the reply are counted, in the agent's spending too.
    assert_eq!((reply.cost.model_calls, reply.cost.unknown_cost_calls), (2, 0));
    assert!(reply.cost.cost_usd > 0.0);
    assert_eq!(h.store.agent_spend(USER, agent.id, None).await.unwrap().cost_usd, reply.cost.cost_usd);

    // With a draft open, the agent is not offered another proposal.
    h.fake.push(Reply::text("Let us refine the outline first."));
    let (sender, receiver) = mpsc::channel(64);
    h.runtime.chat(USER, agent.id, "And then?".into(), sender).await.unwrap();
    drop(collect(receiver).await);
    let last = h.fake.requests().pop().unwrap().body;
    assert!(last.get("tools").is_none_or(|tools| tools.as_array().is_none_or(Vec::is_empty)), "{last}");
    assert!(last.to_string().contains("Outline issue #1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_proposal_goes_back_to_the_model_to_fix() {
    let h = Harness::start().await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(Reply::tool_call(
        "propose_action",
        &json!({ "title": "", "description": "x", "priority": "asap", "mode": "scheduled" }),
    ));
    h.fake.push(Reply::tool_call(
        "propose_action",
        &json!({ "title": "Fixed", "description": "x", "priority": "low", "mode": "interactive" }),
    ));
    h.fake.push(Reply::text("Done."));
    let (sender, receiver) = mpsc::channel(64);
    h.runtime.chat(USER, agent.id, "Propose something".into(), sender).await.unwrap();
    let events = collect(receiver).await;
    let drafts: Vec<_> = events.iter().filter(|event| matches!(event, ChatEvent::DraftProposed { .. })).collect();
    assert_eq!(drafts.len(), 1);
    let second_request = h.fake.requests()[1].body.to_string();
    assert!(second_request.contains("priority"), "the model is told what was wrong: {second_request}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drafts_thread_revises_it() {
    let h = Harness::start().await;
    let agent = h.agent(|_| {}).await;
    let action = steward_domain::NewAction {
        agent_id: agent.id,
        title: "Outline issue #1".into(),
        description: "Three sections".into(),
        priority: ActionPriority::Medium,
        mode: ActionMode::Scheduled,
        scheduled_for: None,
    };
    let action = h.store.create_action(USER, action).await.unwrap();
    h.fake.push(Reply::tool_call(
        "update_draft",
        &json!({ "title": "Outline issue #1 (five sections)", "priority": "urgent" }),
    ));
    h.fake.push(Reply::text("Updated."));
    let (sender, receiver) = mpsc::channel(64);
    h.runtime.chat_about_action(USER, action.id, "Make it five sections, and urgent".into(), sender).await.unwrap();
    let events = collect(receiver).await;
    let updated = events
        .iter()
        .find_map(|event| match event {
            ChatEvent::DraftUpdated { action } => Some(action.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(updated.title, "Outline issue #1 (five sections)");
    assert_eq!(updated.priority, ActionPriority::Urgent);
    assert_eq!(h.store.get_action(USER, action.id).await.unwrap().title, "Outline issue #1 (five sections)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatting_counts_against_the_agents_budget() {
    let h = Harness::start().await;
    // Each reply: 10,000 input and 1,000 output tokens of claude-sonnet-4-5, about $0.045.
    let agent = h.agent(|agent| agent.budget = Budget { daily_usd: Some(0.05), total_usd: None }).await;
    let usage = ReplyUsage { input_tokens: 10_000, output_tokens: 1000, ..ReplyUsage::default() };
    for question in ["What first?", "And then?"] {
        h.fake.push(Reply::text("Let us talk it through.").with_usage(usage));
        let (sender, receiver) = mpsc::channel(64);
        h.runtime.chat(USER, agent.id, question.into(), sender).await.unwrap();
        drop(collect(receiver).await);
    }
    let spent = h.store.agent_spend(USER, agent.id, None).await.unwrap();
    assert!(spent.cost_usd > 0.05 && spent.cost_usd < 0.1, "{spent:?}");
    // The chat spent the day's budget: a run of the agent makes no model call.
    let requests_before = h.fake.requests().len();
    let run = h.start_run(&agent, "Write the post", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::BudgetExceeded));
    assert!(h.reload(&run).await.error.unwrap().contains("spent $0.09"), "the chat's spending is named");
    assert_eq!(h.fake.requests().len(), requests_before);
    // Nor does a chat: it is refused before the message is stored.
    let messages_before = chat_messages(&h, agent.id).await;
    let (sender, _receiver) = mpsc::channel(64);
    let refused = h.runtime.chat(USER, agent.id, "One more?".into(), sender).await.unwrap_err();
    assert!(matches!(&refused, ChatError::OverBudget(reason) if reason.contains("daily budget")), "{refused}");
    assert_eq!(h.fake.requests().len(), requests_before);
    assert_eq!(chat_messages(&h, agent.id).await, messages_before);
}

async fn chat_messages(h: &Harness, agent: steward_domain::AgentId) -> usize {
    let conversation = h.store.conversation_for(USER, ConversationKind::Agent, agent, None).await.unwrap();
    h.store.list_messages(USER, conversation.id, None, 100).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_of_unknown_cost_is_counted_as_unknown_not_free() {
    let h = Harness::start().await;
    let agent = h.agent(|agent| agent.model = Some("anthropic/claude-unpriced-test".into())).await;
    h.fake.push(Reply::text("Hello."));
    let (sender, receiver) = mpsc::channel(64);
    let reply = h.runtime.chat(USER, agent.id, "Hi".into(), sender).await.unwrap();
    drop(collect(receiver).await);
    assert_eq!((reply.cost.model_calls, reply.cost.cost_usd, reply.cost.unknown_cost_calls), (1, 0.0, 1));
    let spent = h.store.agent_spend(USER, agent.id, None).await.unwrap();
    assert_eq!(spent, Spend { cost_usd: 0.0, unknown_cost_calls: 1 });
}
