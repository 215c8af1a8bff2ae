//! The chat endpoints in-process, with the fake provider playing the
//! model: the setup chat that creates an agent, the agent's chat and a
//! draft's thread (JSON and streamed replies), and their refusals.

use std::convert::Infallible;

use axum::body::Bytes;
use eventsource_stream::{Event, Eventsource};
use futures::StreamExt;
use serde_json::{Value, json};
use steward_fake_llm::{Fault, Reply, ReplyUsage};

use crate::agent_support::{newsletter_agent, proposal, setup_reply};
use crate::support::{TestApp, TestResponse, api_tests};

api_tests!(
    the_setup_chat_creates_an_agent_and_stays_with_it,
    bad_setup_chats_name_the_field_and_write_nothing,
    a_chat_reply_comes_whole_as_json,
    a_drafts_thread_revises_it,
    a_streamed_reply_sends_deltas_then_done,
    bad_chat_input_is_refused_before_anything_is_stored,
    a_failed_model_call_is_reported_and_the_message_kept,
    a_chat_over_the_agents_budget_is_refused,
);

/// The events of a complete SSE body, in order.
pub async fn events_of(response: &TestResponse) -> Vec<Event> {
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.headers["content-type"], "text/event-stream");
    let body = futures::stream::iter([Ok::<_, Infallible>(Bytes::from(response.text.clone()))]);
    body.eventsource().map(|event| event.unwrap()).collect().await
}

fn data(event: &Event) -> Value {
    serde_json::from_str(&event.data).unwrap()
}

fn roles_and_texts(response: &TestResponse) -> Vec<(String, String)> {
    let messages = response.assert_status(200)["messages"].as_array().unwrap().clone();
    messages
        .iter()
        .map(|message| (message["role"].as_str().unwrap().into(), message["text"].as_str().unwrap().into()))
        .collect()
}

async fn the_setup_chat_creates_an_agent_and_stays_with_it(app: TestApp) {
    app.fake().push(setup_reply("What should the newsletter achieve, and by when?", None));
    app.fake().push(setup_reply("1,000 subscribers by June. Shall I create it?", Some(newsletter_agent())));
    let first = app.post("/api/v1/agents/setup-chat", json!({"message": "Help me with my newsletter"})).await;
    let body = first.assert_status(200).clone();
    assert_eq!((body["ready"].as_bool(), &body["proposal"]), (Some(false), &json!(null)));
    assert_eq!(body["message"]["role"], "assistant");
    assert_eq!(body["message"]["text"], "What should the newsletter achieve, and by when?");
    let conversation = body["conversation_id"].as_i64().unwrap();

    let body = json!({"conversation_id": conversation, "message": "1,000 subscribers by June"});
    let second = app.post("/api/v1/agents/setup-chat", body).await;
    assert_eq!(second.assert_status(200)["ready"], true);
    assert_eq!(second.body["conversation_id"], conversation);
    assert_eq!(second.body["proposal"], newsletter_agent());

    let confirm =
        app.post(&format!("/api/v1/agents/setup-chat/{conversation}/confirm"), json!({"name": "Letters"})).await;
    let agent = confirm.assert_status(201).clone();
    assert_eq!(confirm.headers["location"], format!("/api/v1/agents/{}", agent["id"]));
    assert_eq!((agent["name"].as_str(), agent["goal"].as_str()), (Some("Letters"), Some("Reach 1,000 subscribers")));
    assert_eq!(agent["success_criteria"], json!(["A weekly issue", "40% open rate"]));
    assert_eq!(agent["timeline"], "by June");

    let history = app.get(&format!("/api/v1/agents/{}/setup-chat", agent["id"])).await;
    let roles: Vec<String> = roles_and_texts(&history).into_iter().map(|(role, _)| role).collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    let page = app.get(&format!("/api/v1/agents/{}/setup-chat?limit=1", agent["id"])).await;
    assert_eq!(roles_and_texts(&page)[0].1, "1,000 subscribers by June. Shall I create it?", "the newest");

    // The chat is done: it neither takes more turns nor creates a second agent.
    let again = app.refused(app.post(&format!("/api/v1/agents/setup-chat/{conversation}/confirm"), json!({}))).await;
    again.assert_error(409, "already_exists", Some("conversation"));
    let more = json!({"conversation_id": conversation, "message": "one more thing"});
    app.refused(app.post("/api/v1/agents/setup-chat", more)).await.assert_error(
        409,
        "already_exists",
        Some("conversation_id"),
    );
    // An agent made without a setup chat has an empty one.
    let plain = app.agent("Plain").await;
    assert_eq!(app.get(&format!("/api/v1/agents/{plain}/setup-chat")).await.body["messages"], json!([]));
}

async fn bad_setup_chats_name_the_field_and_write_nothing(app: TestApp) {
    let agent = app.agent("Writer").await;
    let cases = [
        (json!({}), "message", "is required"),
        (json!({"message": " "}), "message", "must not be empty"),
        (json!({"message": "hi", "agent": "x"}), "agent", "unknown field"),
        (json!({"message": "hi", "conversation_id": 999}), "conversation_id", "no setup chat 999"),
        (json!({"message": "hi", "conversation_id": 0}), "conversation_id", "positive"),
        (json!({"message": "hi", "conversation_id": "one"}), "conversation_id", "invalid type"),
    ];
    for (body, field, fragment) in cases {
        let response = app.refused(app.post("/api/v1/agents/setup-chat", body.clone())).await;
        let message = response.assert_error(422, "invalid_field", Some(field));
        assert!(message.contains(fragment), "{body}: {message}");
    }
    // An agent's chat is not a setup chat.
    app.fake().push(Reply::text("Hello."));
    app.post(&format!("/api/v1/agents/{agent}/chat"), json!({"message": "hi"})).await.assert_status(200);
    let chat = app
        .store
        .find_conversation(
            crate::support::USER,
            steward_domain::ConversationKind::Agent,
            steward_domain::AgentId(agent),
            None,
        )
        .await
        .unwrap()
        .unwrap();
    let body = json!({"message": "hi", "conversation_id": chat.id.get()});
    let response = app.refused(app.post("/api/v1/agents/setup-chat", body)).await;
    assert!(response.assert_error(422, "invalid_field", Some("conversation_id")).contains("not a setup chat"));
    let confirm = app.refused(app.post(&format!("/api/v1/agents/setup-chat/{}/confirm", chat.id), json!({}))).await;
    confirm.assert_error(404, "not_found", None);
    app.refused(app.post("/api/v1/agents/setup-chat/999/confirm", json!({}))).await.assert_error(
        404,
        "not_found",
        None,
    );
    app.refused(app.post("/api/v1/agents/setup-chat/x/confirm", json!({}))).await.assert_error(
        400,
        "invalid_parameter",
        Some("id"),
    );

    // Confirming before the chat proposed anything: the name is missing.
    app.fake().push(setup_reply("What is the goal?", None));
    let started = app.post("/api/v1/agents/setup-chat", json!({"message": "An agent please"})).await;
    let conversation = started.assert_status(200)["conversation_id"].as_i64().unwrap();
    let path = format!("/api/v1/agents/setup-chat/{conversation}/confirm");
    let early = app.refused(app.post(&path, json!({}))).await;
    early.assert_error(422, "invalid_field", Some("name"));
    app.refused(app.post(&path, json!({"name": "X", "tools": []}))).await.assert_error(
        422,
        "invalid_field",
        Some("tools"),
    );
    let taken = app.refused(app.post(&path, json!({"name": "Writer", "goal": "Write"}))).await;
    taken.assert_error(409, "already_exists", Some("name"));
    app.get("/api/v1/agents/999/setup-chat").await.assert_error(404, "not_found", None);
}

async fn a_chat_reply_comes_whole_as_json(app: TestApp) {
    let agent = app.agent("Writer").await;
    app.fake()
        .push(Reply::text("Here is a first step.").then_tool_call("propose_action", &proposal("Outline issue #1")));
    app.fake().push(Reply::text(" I drafted it."));
    let response = app.post(&format!("/api/v1/agents/{agent}/chat"), json!({"message": "What first?"})).await;
    let reply = response.assert_status(200).clone();
    assert_eq!(reply["message"]["role"], "assistant");
    assert_eq!(reply["message"]["text"], "Here is a first step. I drafted it.");
    let drafts = reply["drafts_proposed"].as_array().unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!((drafts[0]["title"].as_str(), drafts[0]["state"].as_str()), (Some("Outline issue #1"), Some("draft")));
    assert_eq!((drafts[0]["priority"].as_str(), drafts[0]["agent_id"].as_i64()), (Some("high"), Some(agent)));
    assert_eq!(reply["drafts_updated"], json!([]));
    let actions = app.get(&format!("/api/v1/actions?agent_id={agent}")).await;
    assert_eq!(actions.body["actions"][0]["id"], drafts[0]["id"], "the draft is a stored action");

    let history = app.get(&format!("/api/v1/agents/{agent}/chat")).await;
    assert_eq!(
        roles_and_texts(&history),
        [("user".into(), "What first?".into()), ("assistant".into(), "Here is a first step. I drafted it.".into())]
    );
    let after = history.body["messages"][0]["id"].as_i64().unwrap();
    let rest = app.get(&format!("/api/v1/agents/{agent}/chat?after={after}&limit=5")).await;
    assert_eq!(roles_and_texts(&rest).len(), 1);
}

async fn a_drafts_thread_revises_it(app: TestApp) {
    let agent = app.agent("Writer").await;
    let action = app.action(agent, "Outline issue #1").await;
    app.fake().push(Reply::tool_call("update_draft", &json!({"title": "Outline issue #1: the welcome"})));
    app.fake().push(Reply::text("Renamed it."));
    let response = app.post(&format!("/api/v1/actions/{action}/chat"), json!({"message": "Call it the welcome"})).await;
    let reply = response.assert_status(200).clone();
    assert_eq!(reply["drafts_updated"][0]["title"], "Outline issue #1: the welcome");
    assert_eq!(reply["drafts_proposed"], json!([]));
    assert_eq!(app.get(&format!("/api/v1/actions/{action}")).await.body["title"], "Outline issue #1: the welcome");
    let thread = app.get(&format!("/api/v1/actions/{action}/chat")).await;
    assert_eq!(roles_and_texts(&thread)[1], ("assistant".into(), "Renamed it.".into()));
    assert_eq!(
        app.get(&format!("/api/v1/agents/{agent}/chat")).await.body["messages"],
        json!([]),
        "a thread of its own"
    );
    let request = app.fake().requests().remove(0);
    assert!(request.mentions("Outline issue #1"), "the model is told which action it refines");
}

async fn a_streamed_reply_sends_deltas_then_done(app: TestApp) {
    let agent = app.agent("Writer").await;
    app.fake().push(Reply::text("Here is a first step.").then_tool_call("propose_action", &proposal("Outline")));
    app.fake().push(Reply::text(" Drafted."));
    let response = app.post_streamed(&format!("/api/v1/agents/{agent}/chat"), json!({"message": "What first?"})).await;
    let events = events_of(&response).await;
    let names: Vec<&str> = events.iter().map(|event| event.event.as_str()).collect();
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    let done = data(events.last().unwrap());
    let proposed = names.iter().position(|name| *name == "draft_proposed").expect("a draft_proposed event");
    assert!(names[..proposed].iter().all(|name| *name == "delta") && proposed > 1, "{names:?}");
    assert!(names[proposed + 1..names.len() - 1].iter().all(|name| *name == "delta"), "{names:?}");
    let text: String = events
        .iter()
        .filter(|event| event.event == "delta")
        .map(|event| data(event)["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(text, "Here is a first step. Drafted.");
    assert_eq!(done["message"]["text"], text);
    assert_eq!(data(&events[proposed])["action"]["title"], "Outline");
    let history = app.get(&format!("/api/v1/agents/{agent}/chat")).await;
    assert_eq!(history.body["messages"][1]["id"], done["message"]["id"]);
}

async fn bad_chat_input_is_refused_before_anything_is_stored(app: TestApp) {
    let agent = app.agent("Writer").await;
    let action = app.action(agent, "Outline").await;
    for path in [format!("/api/v1/agents/{agent}/chat"), format!("/api/v1/actions/{action}/chat")] {
        let cases = [
            (json!({}), "message"),
            (json!({"message": ""}), "message"),
            (json!({"message": "x".repeat(100_001)}), "message"),
            (json!({"message": "hi", "stream": true}), "stream"),
            (json!({"message": ["hi"]}), "message"),
        ];
        for (body, field) in cases {
            let response = app.refused(app.post_streamed(&path, body)).await;
            response.assert_error(422, "invalid_field", Some(field));
        }
    }
    for path in ["/api/v1/agents/999/chat", "/api/v1/actions/999/chat"] {
        app.refused(app.post_streamed(path, json!({"message": "hi"}))).await.assert_error(404, "not_found", None);
        app.get(path).await.assert_error(404, "not_found", None);
    }
    app.refused(app.post("/api/v1/agents/x/chat", json!({"message": "hi"}))).await.assert_error(
        400,
        "invalid_parameter",
        Some("id"),
    );
    app.get(&format!("/api/v1/agents/{agent}/chat?limit=0")).await.assert_error(
        400,
        "invalid_parameter",
        Some("limit"),
    );
    app.get(&format!("/api/v1/actions/{action}/chat?after=x")).await.assert_error(
        400,
        "invalid_parameter",
        Some("after"),
    );
    app.post_empty(&format!("/api/v1/agents/{agent}/archive")).await.assert_status(200);
    for path in [format!("/api/v1/agents/{agent}/chat"), format!("/api/v1/actions/{action}/chat")] {
        let response = app.refused(app.post_streamed(&path, json!({"message": "hi"}))).await;
        assert!(response.assert_error(409, "archived", None).contains("archived"));
    }
    // The history of an archived agent can still be read.
    assert_eq!(app.get(&format!("/api/v1/agents/{agent}/chat")).await.assert_status(200)["messages"], json!([]));
    assert!(app.fake().requests().is_empty());
}

async fn a_failed_model_call_is_reported_and_the_message_kept(app: TestApp) {
    let agent = app.agent("Writer").await;
    let path = format!("/api/v1/agents/{agent}/chat");
    app.fake().push(Fault::server_error());
    let response = app.post(&path, json!({"message": "Are you there?"})).await;
    let message = response.assert_error(502, "model_failed", None);
    assert!(message.contains("try again"), "a passing failure says so: {message}");

    app.fake().push(Fault::server_error());
    let streamed = app.post_streamed(&path, json!({"message": "Still there?"})).await;
    let events = events_of(&streamed).await;
    assert_eq!(events.iter().map(|event| event.event.as_str()).collect::<Vec<_>>(), ["error"]);
    assert_eq!(data(&events[0])["error"]["code"], "model_failed");

    let history = app.get(&path).await;
    assert_eq!(
        roles_and_texts(&history),
        [("user".into(), "Are you there?".into()), ("user".into(), "Still there?".into())],
        "the person's messages are kept; no reply was made up"
    );

    // An agent whose model's provider has no key is refused at the door
    // (the user can act on it), not stored to fail at its first chat.
    let body = json!({"name": "Other", "goal": "G", "model": "openai/gpt-4o"});
    let refused = app.refused(app.post("/api/v1/agents", body)).await;
    let message = refused.assert_error(422, "model_unavailable", Some("model"));
    assert!(message.contains("set OPENAI_API_KEY"), "{message}");
    // One stored before the key went away still fails at its chat, saying so.
    let new = steward_domain::NewAgent {
        name: "Other".into(),
        goal: "G".into(),
        model: Some("openai/gpt-4o".into()),
        ..steward_domain::NewAgent::default()
    };
    let other = app.store.create_agent(crate::support::USER, new).await.unwrap().id;
    let response = app.post(&format!("/api/v1/agents/{other}/chat"), json!({"message": "hi"})).await;
    response.assert_error(503, "model_not_configured", None);
}

async fn a_chat_over_the_agents_budget_is_refused(app: TestApp) {
    let agent = app.agent("Writer").await;
    let budget = json!({"budget": {"total_usd": 0.01}});
    app.patch(&format!("/api/v1/agents/{agent}"), budget).await.assert_status(200);
    // 10,000 tokens in and 1,000 out of claude-sonnet-4-5: about $0.045, over the budget.
    let usage = ReplyUsage { input_tokens: 10_000, output_tokens: 1000, ..ReplyUsage::default() };
    app.fake().push(Reply::text("Let us begin.").with_usage(usage));
    app.post(&format!("/api/v1/agents/{agent}/chat"), json!({"message": "Hello"})).await.assert_status(200);
    let requests = app.fake().requests().len();
    let over = app.refused(app.post(&format!("/api/v1/agents/{agent}/chat"), json!({"message": "More?"}))).await;
    let message = over.assert_error(409, "budget_exceeded", None);
    assert!(message.contains("its budget is $0.01"), "{message}");
    // Asked for as a stream, the refusal is the same HTTP error: nothing was accepted to stream.
    let path = format!("/api/v1/agents/{agent}/chat");
    let streamed = app.refused(app.post_streamed(&path, json!({"message": "More?"}))).await;
    streamed.assert_error(409, "budget_exceeded", None);
    assert_eq!(app.fake().requests().len(), requests, "no model call was made");
}
