//! Conversations: setup chats, agent chats and action threads, their
//! messages, and the agent a setup chat creates.

use serde_json::json;
use steward_domain::{
    ActionId, AgentId, ChatRole, ConversationId, ConversationKind, EventSubject, MessageCost, NewAgent, NewChatMessage,
    NewConversation, UserId,
};
use steward_store::{ConflictKind, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, agent_named, draft_action, event_kinds};

fn conversation(kind: ConversationKind, agent_id: Option<AgentId>, action_id: Option<ActionId>) -> NewConversation {
    NewConversation { kind, agent_id, action_id }
}

fn said(role: ChatRole, text: &str) -> NewChatMessage {
    NewChatMessage { role, text: text.into(), data: json!({}), cost: MessageCost::default() }
}

fn invalid_field(error: StoreError) -> String {
    match error {
        StoreError::Invalid(error) => error.field,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

async fn each_kind_names_what_it_is_about(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let action = draft_action(store, agent).await;

    let setup = store.create_conversation(USER, conversation(ConversationKind::Setup, None, None)).await.unwrap();
    assert_eq!((setup.kind, setup.agent_id, setup.action_id), (ConversationKind::Setup, None, None));
    let chat = store.create_conversation(USER, conversation(ConversationKind::Agent, Some(agent), None)).await.unwrap();
    assert_eq!(chat.agent_id, Some(agent));
    // An action's thread takes its agent from the action.
    let thread =
        store.create_conversation(USER, conversation(ConversationKind::Action, None, Some(action.id))).await.unwrap();
    assert_eq!((thread.agent_id, thread.action_id), (Some(agent), Some(action.id)));
    assert_eq!(store.get_conversation(USER, thread.id).await.unwrap(), thread);

    // One chat per agent, one thread per action.
    match store.create_conversation(USER, conversation(ConversationKind::Agent, Some(agent), None)).await.unwrap_err() {
        StoreError::Conflict { kind, field, .. } => {
            assert_eq!((kind, field.as_deref()), (ConflictKind::AlreadyExists, Some("agent_id")));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.conversation_for(USER, ConversationKind::Agent, agent, None).await.unwrap(), chat);
    assert_eq!(store.conversation_for(USER, ConversationKind::Action, agent, Some(action.id)).await.unwrap(), thread);
}

async fn bad_conversations_are_refused_naming_the_field(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let other = agent_named(store, "Other").await;
    let action = draft_action(store, agent).await;
    let create = |new: NewConversation| store.create_conversation(USER, new);
    let error = create(conversation(ConversationKind::Setup, Some(agent), None)).await.unwrap_err();
    assert_eq!(invalid_field(error), "agent_id");
    let error = create(conversation(ConversationKind::Agent, None, None)).await.unwrap_err();
    assert_eq!(invalid_field(error), "agent_id");
    let error = create(conversation(ConversationKind::Agent, Some(AgentId(999)), None)).await.unwrap_err();
    assert_eq!(invalid_field(error), "agent_id");
    let error = create(conversation(ConversationKind::Action, Some(agent), None)).await.unwrap_err();
    assert_eq!(invalid_field(error), "action_id");
    let error = create(conversation(ConversationKind::Action, None, Some(ActionId(999)))).await.unwrap_err();
    assert_eq!(invalid_field(error), "action_id");
    let error = create(conversation(ConversationKind::Action, Some(other), Some(action.id))).await.unwrap_err();
    assert_eq!(invalid_field(error), "action_id");
    let error = store.conversation_for(USER, ConversationKind::Setup, agent, None).await.unwrap_err();
    assert_eq!(invalid_field(error), "kind");
    let error = store.conversation_for(USER, ConversationKind::Action, other, Some(action.id)).await.unwrap_err();
    assert_eq!(invalid_field(error), "action_id");
    store.archive_agent(USER, other).await.unwrap();
    let error = store.conversation_for(USER, ConversationKind::Agent, other, None).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { kind: ConflictKind::Archived, .. }), "{error:?}");
}

async fn messages_are_kept_in_order_and_paged(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let chat = store.conversation_for(USER, ConversationKind::Agent, agent, None).await.unwrap();
    let mut ids = Vec::new();
    for index in 0..5 {
        t.clock.advance(chrono::Duration::seconds(1));
        let role = if index % 2 == 0 { ChatRole::User } else { ChatRole::Assistant };
        let message = store.append_message(USER, chat.id, said(role, &format!("message {index}"))).await.unwrap();
        assert_eq!((message.conversation_id, message.role), (chat.id, role));
        ids.push(message.id);
    }
    let cost = MessageCost { model_calls: 3, cost_usd: 0.02, unknown_cost_calls: 1 };
    let proposal = NewChatMessage { role: ChatRole::Assistant, text: String::new(), data: json!({ "draft": 7 }), cost };
    let proposed = store.append_message(USER, chat.id, proposal).await.unwrap();
    assert_eq!((proposed.text.as_str(), proposed.data.clone(), proposed.cost), ("", json!({ "draft": 7 }), cost));
    ids.push(proposed.id);
    assert_eq!(store.get_conversation(USER, chat.id).await.unwrap().updated_at, proposed.created_at);

    let listed = |after, limit| store.list_messages(USER, chat.id, after, limit);
    let newest: Vec<_> = listed(None, 2).await.unwrap().into_iter().map(|message| message.id).collect();
    assert_eq!(newest, ids[4..], "the newest, in order");
    let after: Vec<_> = listed(Some(ids[1]), 2).await.unwrap().into_iter().map(|message| message.id).collect();
    assert_eq!(after, ids[2..4]);
    assert_eq!(listed(None, 100).await.unwrap()[0].text, "message 0");

    assert_eq!(listed(None, 100).await.unwrap()[5].cost, cost, "the cost reads back");
    assert_eq!(listed(None, 100).await.unwrap()[0].cost, MessageCost::default());

    let error = store.append_message(USER, chat.id, said(ChatRole::User, "   ")).await.unwrap_err();
    assert_eq!(invalid_field(error), "message");
    let negative = MessageCost { model_calls: 1, cost_usd: -0.5, unknown_cost_calls: 0 };
    let error = store
        .append_message(USER, chat.id, NewChatMessage { cost: negative, ..said(ChatRole::Assistant, "hi") })
        .await
        .unwrap_err();
    assert_eq!(invalid_field(error), "cost.cost_usd");
    let kinds = event_kinds(store, EventSubject::Conversation, chat.id.get()).await;
    assert_eq!(kinds, vec!["message.created"; 6]);
    let missing = store.append_message(USER, ConversationId(999), said(ChatRole::User, "hi")).await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { .. }));
}

fn proposed_agent(name: &str) -> NewAgent {
    NewAgent {
        name: name.into(),
        goal: "Grow the newsletter to 1,000 readers".into(),
        success_criteria: vec!["1,000 subscribers".into()],
        timeline: Some("by June".into()),
        ..NewAgent::default()
    }
}

async fn a_setup_chat_creates_its_agent_once(t: TestStore) {
    let store = t.store.as_ref();
    let setup = store.create_conversation(USER, conversation(ConversationKind::Setup, None, None)).await.unwrap();
    store.append_message(USER, setup.id, said(ChatRole::User, "I want more readers")).await.unwrap();
    let error = store.create_agent_from_setup(USER, setup.id, proposed_agent("  ")).await.unwrap_err();
    assert_eq!(invalid_field(error), "name");

    let agent = store.create_agent_from_setup(USER, setup.id, proposed_agent("Growth")).await.unwrap();
    assert_eq!((agent.name.as_str(), agent.timeline.as_deref()), ("Growth", Some("by June")));
    assert_eq!(store.get_agent(USER, agent.id).await.unwrap(), agent);
    assert_eq!(store.get_conversation(USER, setup.id).await.unwrap().agent_id, Some(agent.id));
    assert_eq!(event_kinds(store, EventSubject::Agent, agent.id.get()).await, ["agent.created"]);

    match store.create_agent_from_setup(USER, setup.id, proposed_agent("Growth 2")).await.unwrap_err() {
        StoreError::Conflict { kind, message, .. } => {
            assert_eq!(kind, ConflictKind::AlreadyExists);
            assert!(message.contains(&format!("already created agent {}", agent.id)), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // A taken name is refused and the chat stays free for another try.
    let second = store.create_conversation(USER, conversation(ConversationKind::Setup, None, None)).await.unwrap();
    let taken = store.create_agent_from_setup(USER, second.id, proposed_agent("Growth")).await.unwrap_err();
    assert!(matches!(taken, StoreError::Conflict { kind: ConflictKind::AlreadyExists, .. }), "{taken:?}");
    assert_eq!(store.get_conversation(USER, second.id).await.unwrap().agent_id, None);
    let chat = store.conversation_for(USER, ConversationKind::Agent, agent.id, None).await.unwrap();
    let error = store.create_agent_from_setup(USER, chat.id, proposed_agent("Other")).await.unwrap_err();
    assert_eq!(invalid_field(error), "conversation");
}

async fn existing_conversations_are_found_without_creating_any(t: TestStore) {
    let store = t.store.as_ref();
    let other = agent_named(store, "Other").await;
    let setup = store.create_conversation(USER, conversation(ConversationKind::Setup, None, None)).await.unwrap();
    let agent = store.create_agent_from_setup(USER, setup.id, proposed_agent("Growth")).await.unwrap().id;
    let action = draft_action(store, agent).await;
    let find = |kind, agent, action| store.find_conversation(USER, kind, agent, action);

    // Nothing is created by looking.
    assert_eq!(find(ConversationKind::Agent, agent, None).await.unwrap(), None);
    assert_eq!(find(ConversationKind::Action, agent, Some(action.id)).await.unwrap(), None);

    let found = find(ConversationKind::Setup, agent, None).await.unwrap().unwrap();
    assert_eq!(found.id, setup.id, "the setup chat that created the agent");
    assert_eq!(find(ConversationKind::Setup, other, None).await.unwrap(), None, "created without a setup chat");
    let chat = store.conversation_for(USER, ConversationKind::Agent, agent, None).await.unwrap();
    let thread = store.conversation_for(USER, ConversationKind::Action, agent, Some(action.id)).await.unwrap();
    assert_eq!(find(ConversationKind::Agent, agent, None).await.unwrap(), Some(chat));
    assert_eq!(find(ConversationKind::Action, agent, Some(action.id)).await.unwrap(), Some(thread));
    // Another agent's view of the thread, another user, or no action: nothing.
    assert_eq!(find(ConversationKind::Action, other, Some(action.id)).await.unwrap(), None);
    let stranger = store.find_conversation(UserId(2), ConversationKind::Setup, agent, None).await.unwrap();
    assert_eq!(stranger, None);
    let error = find(ConversationKind::Action, agent, None).await.unwrap_err();
    assert_eq!(invalid_field(error), "action_id");
}

async fn conversations_are_scoped_by_user(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let chat = store.conversation_for(USER, ConversationKind::Agent, agent, None).await.unwrap();
    store.append_message(USER, chat.id, said(ChatRole::User, "hello")).await.unwrap();
    let stranger = UserId(2);
    let not_found = |error: StoreError| matches!(error, StoreError::NotFound { .. });
    assert!(not_found(store.get_conversation(stranger, chat.id).await.unwrap_err()));
    assert!(not_found(store.list_messages(stranger, chat.id, None, 10).await.unwrap_err()));
    assert!(not_found(store.append_message(stranger, chat.id, said(ChatRole::User, "hi")).await.unwrap_err()));
    assert!(not_found(store.create_agent_from_setup(stranger, chat.id, proposed_agent("X")).await.unwrap_err()));
    let error = store.conversation_for(stranger, ConversationKind::Agent, agent, None).await.unwrap_err();
    assert_eq!(invalid_field(error), "agent_id");
    assert_eq!(store.list_messages(USER, chat.id, None, 10).await.unwrap().len(), 1);
}

store_tests!(
    each_kind_names_what_it_is_about,
    bad_conversations_are_refused_naming_the_field,
    messages_are_kept_in_order_and_paged,
    a_setup_chat_creates_its_agent_once,
    existing_conversations_are_found_without_creating_any,
    conversations_are_scoped_by_user,
);
