//! What agents spend, by the UTC day the model calls finished — in runs and
//! in conversations — and their metrics: spend, runs, actions completed of
//! total.

use chrono::TimeZone;
use steward_domain::{
    ActionState, ChatRole, Clock, ConversationKind, MessageCost, NewAgent, NewChatMessage, NewConversation, Spend,
    StepKind,
};
use steward_store::RunFinish;
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{
    USER, ad_hoc_run, agent_named, claim_and_begin, defined_action, draft_action, model_call, run_of_action, step,
};

async fn spend_is_counted_by_the_day_the_calls_finished(t: TestStore) {
    let store = t.store.as_ref();
    let clock = t.clock.as_ref();
    let writer = agent_named(store, "Writer").await;
    let editor = agent_named(store, "Editor").await;
    // The clock starts at 2030-01-01T00:00:00Z; the first run spends late that day.
    clock.advance(chrono::Duration::hours(23));
    let run = store.start_run(USER, ad_hoc_run(writer, "Go")).await.unwrap();
    claim_and_begin(store, run.id).await;
    store.append_step(step(clock, run.id, 0, StepKind::Instruction)).await.unwrap();
    store.append_step(model_call(clock, run.id, 1, 100, 10, Some(0.25))).await.unwrap();
    store.append_step(step(clock, run.id, 2, StepKind::ToolCall)).await.unwrap();
    // The run goes on past midnight: these calls are the next day's spending.
    clock.advance(chrono::Duration::hours(2));
    store.append_step(model_call(clock, run.id, 3, 100, 10, Some(0.5))).await.unwrap();
    store.append_step(model_call(clock, run.id, 4, 100, 10, None)).await.unwrap();
    // Another agent's spending is not counted.
    let other = store.start_run(USER, ad_hoc_run(editor, "Go")).await.unwrap();
    claim_and_begin(store, other.id).await;
    store.append_step(model_call(clock, other.id, 0, 1, 1, Some(9.0))).await.unwrap();

    let total = store.agent_spend(USER, writer, None).await.unwrap();
    assert_eq!(total, Spend { cost_usd: 0.75, unknown_cost_calls: 1 });
    let second_day = chrono::Utc.with_ymd_and_hms(2030, 1, 2, 0, 0, 0).unwrap();
    let today = store.agent_spend(USER, writer, Some(second_day)).await.unwrap();
    assert_eq!(today, Spend { cost_usd: 0.5, unknown_cost_calls: 1 });
    let metrics = store.agent_metrics(USER, writer).await.unwrap();
    assert_eq!((metrics.spend_total, metrics.spend_today), (total, today));

    // A new day starts with nothing spent today.
    clock.set(chrono::Utc.with_ymd_and_hms(2030, 1, 3, 8, 0, 0).unwrap());
    let metrics = store.agent_metrics(USER, writer).await.unwrap();
    assert_eq!(metrics.spend_today, Spend::default());
    assert_eq!(metrics.spend_total, total);
    assert_eq!(store.agent_spend(USER, editor, Some(clock.now())).await.unwrap(), Spend::default());
}

async fn metrics_count_runs_and_actions_completed_of_total(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let done = defined_action(store, agent).await;
    let (_, run) = store.schedule_action(USER, done.id, run_of_action(&done)).await.unwrap();
    claim_and_begin(store, run.id).await;
    let completed =
        RunFinish { outcome: steward_domain::RunOutcome::Completed, output: Some("ok".into()), error: None };
    store.finish_run(run.id, completed).await.unwrap();
    draft_action(store, agent).await;
    let dismissed = draft_action(store, agent).await;
    store.transition_action(USER, dismissed.id, ActionState::Dismissed, None).await.unwrap();
    store.start_run(USER, ad_hoc_run(agent, "Ad hoc")).await.unwrap();

    let metrics = store.agent_metrics(USER, agent).await.unwrap();
    assert_eq!(metrics.runs, 2);
    assert_eq!((metrics.actions_completed, metrics.actions_total), (1, 2), "dismissed actions are not counted");
    assert_eq!(metrics.spend_total, Spend::default());
}

fn reply(cost: MessageCost) -> NewChatMessage {
    NewChatMessage { role: ChatRole::Assistant, text: "Sure.".into(), data: serde_json::Value::Null, cost }
}

async fn chat_replies_count_in_the_agents_spending_with_its_runs(t: TestStore) {
    let store = t.store.as_ref();
    let clock = t.clock.as_ref();
    // A setup chat's replies belong to no agent until it creates one.
    let setup = NewConversation { kind: ConversationKind::Setup, agent_id: None, action_id: None };
    let setup = store.create_conversation(USER, setup).await.unwrap();
    store.append_message(USER, setup.id, NewChatMessage::from_user("A newsletter agent")).await.unwrap();
    store.append_message(USER, setup.id, reply(MessageCost::of_call(Some(0.5)))).await.unwrap();
    let writer = store
        .create_agent_from_setup(
            USER,
            setup.id,
            NewAgent { name: "Writer".into(), goal: "Write".into(), ..NewAgent::default() },
        )
        .await
        .unwrap()
        .id;
    let editor = agent_named(store, "Editor").await;
    // Day one, late: the setup reply above, a chat reply whose two model
    // calls cost $0.25 and an unknown amount, and a run's model call.
    clock.advance(chrono::Duration::hours(23));
    let chat = store.conversation_for(USER, ConversationKind::Agent, writer, None).await.unwrap();
    store.append_message(USER, chat.id, NewChatMessage::from_user("Plan issue #1")).await.unwrap();
    let two_calls = MessageCost::of_call(Some(0.25)) + MessageCost::of_call(None);
    store.append_message(USER, chat.id, reply(two_calls)).await.unwrap();
    let run = store.start_run(USER, ad_hoc_run(writer, "Go")).await.unwrap();
    claim_and_begin(store, run.id).await;
    store.append_step(model_call(clock, run.id, 0, 100, 10, Some(1.0))).await.unwrap();
    // Day two: a reply in an action's thread, and one of another agent.
    clock.advance(chrono::Duration::hours(2));
    let action = draft_action(store, writer).await;
    let thread = store.conversation_for(USER, ConversationKind::Action, writer, Some(action.id)).await.unwrap();
    store.append_message(USER, thread.id, reply(MessageCost::of_call(Some(0.125)))).await.unwrap();
    let others = store.conversation_for(USER, ConversationKind::Agent, editor, None).await.unwrap();
    store.append_message(USER, others.id, reply(MessageCost::of_call(Some(9.0)))).await.unwrap();

    let total = store.agent_spend(USER, writer, None).await.unwrap();
    assert_eq!(total, Spend { cost_usd: 0.5 + 0.25 + 1.0 + 0.125, unknown_cost_calls: 1 });
    let second_day = chrono::Utc.with_ymd_and_hms(2030, 1, 2, 0, 0, 0).unwrap();
    let today = store.agent_spend(USER, writer, Some(second_day)).await.unwrap();
    assert_eq!(today, Spend { cost_usd: 0.125, unknown_cost_calls: 0 });
    let metrics = store.agent_metrics(USER, writer).await.unwrap();
    assert_eq!((metrics.spend_total, metrics.spend_today), (total, today));
    assert_eq!(store.agent_spend(USER, editor, None).await.unwrap(), Spend { cost_usd: 9.0, unknown_cost_calls: 0 });
}

async fn a_setup_chat_that_created_no_agent_is_nobodys_spending(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let setup = NewConversation { kind: ConversationKind::Setup, agent_id: None, action_id: None };
    let setup = store.create_conversation(USER, setup).await.unwrap();
    store.append_message(USER, setup.id, reply(MessageCost::of_calls(3, None))).await.unwrap();
    assert_eq!(store.agent_spend(USER, agent, None).await.unwrap(), Spend::default());
}

store_tests!(
    spend_is_counted_by_the_day_the_calls_finished,
    metrics_count_runs_and_actions_completed_of_total,
    chat_replies_count_in_the_agents_spending_with_its_runs,
    a_setup_chat_that_created_no_agent_is_nobodys_spending,
);
