//! Per-user scoping: user B walks every route of the OpenAPI document
//! against user A's resources (A is the token-free local owner, a user like
//! any other) and finds nothing: 404 for every route that names one of A's
//! resources, and never A's data in any answer; the event stream carries
//! only B's own events; an administrator reaches A's resources by id; and
//! every change records who made it.

use std::time::Duration;
use steward_domain::oversight::duplicates::{DuplicateKind, NewDuplicate};

use axum::body::Body;
use axum::http::{Method, Request};
use futures::StreamExt;
use serde_json::{Value, json};
use steward_domain::access::ResourceKind;
use steward_domain::auth::{NewToken, NewUser, Scope, TokenKind};
use steward_domain::delivery::{Destination, NewDeliveries};
use steward_domain::memory::FactKind;
use steward_domain::{AgentId, EpisodeId, NewArtifact, RunId, UserId};
use steward_server::auth::secrets;
use steward_store::memory::{IngestionPlan, PlannedEntity, PlannedFact, Resolution};

use crate::agent_support::setup_reply;
use crate::support::{TestApp, TestResponse, USER, api_tests, serve};

api_tests!(
    tokens_are_shown_once_scoped_and_revoked,
    another_user_finds_none_of_a_users_resources,
    the_event_stream_carries_only_the_users_events,
    an_administrator_reaches_any_users_resource_and_changes_name_their_actor,
    an_administrators_lists_show_every_users_items,
);

/// What every one of A's resources is named after, so an answer that
/// carries A's data is caught by a search for it.
const MARKER: &str = "Zebra";

/// User A's world: one resource of every kind, by the kind a route names.
struct World {
    ids: Vec<(ResourceKind, i64)>,
}

impl World {
    fn id(&self, kind: ResourceKind) -> i64 {
        self.ids.iter().find(|(known, _)| *known == kind).map(|(_, id)| *id).unwrap()
    }
}

async fn world_of_the_local_owner(app: &TestApp) -> World {
    let (run, approval) = crate::approvals::paused_run(app, &format!("{MARKER} mailer")).await;
    let agent = app.get(&format!("/api/v1/runs/{run}")).await.body["agent_id"].as_i64().unwrap();
    let action = app.action(agent, &format!("{MARKER} plan")).await;
    let job = app.job(json!({"kind": "noop", "payload": {"note": MARKER}})).await;
    let schedule = app
        .post("/api/v1/schedules", json!({"name": format!("{MARKER} daily"), "when": "daily at 08:00", "agent_id": agent, "instruction": "Go"}))
        .await;
    let schedule = schedule.assert_status(201)["id"].as_i64().unwrap();
    let destinations = vec![Destination::parse("deliver", "slack:#zebra").unwrap()];
    let delivery = app
        .store
        .create_deliveries(USER, NewDeliveries { run_id: RunId(run), fire_id: None, destinations })
        .await
        .unwrap()[0]
        .id
        .get();
    let folder = app.state.agents.as_ref().unwrap().artifacts_of(RunId(run), None);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("zebra.md"), format!("{MARKER} notes")).unwrap();
    let artifact =
        NewArtifact { user_id: USER, run_id: RunId(run), action_id: None, path: "zebra.md".into(), bytes: 11 };
    let artifact = app.store.record_artifact(artifact).await.unwrap().id.get();
    let episode = app.post("/api/v1/memory/episodes", json!({"content": format!("{MARKER} likes plain copy")})).await;
    let episode = EpisodeId(episode.assert_status(201)["id"].as_i64().unwrap());
    let plan = IngestionPlan {
        entities: vec![PlannedEntity {
            name: MARKER.into(),
            labels: vec![],
            summary: String::new(),
            resolution: Resolution::New,
        }],
        facts: vec![PlannedFact {
            kind: FactKind::Preference,
            subject: 0,
            object: None,
            relation: "prefers".into(),
            statement: format!("{MARKER} prefers plain copy."),
            valid_at: None,
            invalid_at: None,
            duplicate_of: None,
            contradicts: vec![],
            also_from: Vec::new(),
        }],
        ..IngestionPlan::default()
    };
    app.store.apply_ingestion(USER, episode, plan).await.unwrap();
    let found = app.get("/api/v1/memory/search?q=plain%20copy&kind=fact").await;
    let fact = found.assert_status(200)["results"][0]["id"].as_i64().unwrap();
    app.fake().push(setup_reply(&format!("{MARKER}: what should it achieve?"), None));
    let setup = app.post("/api/v1/agents/setup-chat", json!({"message": format!("{MARKER} newsletter")})).await;
    let conversation = setup.assert_status(200)["conversation_id"].as_i64().unwrap();
    let token = app.post("/api/v1/tokens", json!({"name": format!("{MARKER} laptop")})).await;
    let token = token.assert_status(201)["id"].as_i64().unwrap();
    let routine = json!({"name": format!("{MARKER} morning"), "agent_id": agent, "text": format!("{MARKER} {{{{ today }}}}"), "manual": true});
    let routine = app.post("/api/v1/routines", routine).await.assert_status(201)["id"].as_i64().unwrap();
    let fired = app.post(&format!("/api/v1/routines/{routine}/run"), json!({})).await;
    let fire = fired.assert_status(200)["fire"]["id"].as_i64().unwrap();
    let idea = app.post("/api/v1/ideas", json!({"title": format!("{MARKER} shop")})).await;
    let idea = idea.assert_status(201)["id"].as_i64().unwrap();
    let project = app.post("/api/v1/projects", json!({"title": format!("{MARKER} shop"), "idea_id": idea})).await;
    let project = project.assert_status(201)["id"].as_i64().unwrap();
    let flag = NewDuplicate {
        kind: DuplicateKind::Action,
        project_id: None,
        first: action.to_string(),
        second: "999999".into(),
        first_title: format!("{MARKER} plan"),
        second_title: format!("{MARKER} plan again"),
        similarity: 0.9,
        method: "text".into(),
        text_similarity: 0.9,
        embedding_similarity: None,
    };
    let duplicate = app.store.flag_duplicates(USER, vec![flag]).await.unwrap()[0].id.get();
    World {
        ids: vec![
            (ResourceKind::Agent, agent),
            (ResourceKind::Action, action),
            (ResourceKind::Run, run),
            (ResourceKind::Approval, approval),
            (ResourceKind::Job, job),
            (ResourceKind::Schedule, schedule),
            (ResourceKind::Delivery, delivery),
            (ResourceKind::Artifact, artifact),
            (ResourceKind::Conversation, conversation),
            (ResourceKind::Fact, fact),
            (ResourceKind::Token, token),
            (ResourceKind::Routine, routine),
            (ResourceKind::Fire, fire),
            (ResourceKind::Project, project),
            (ResourceKind::Idea, idea),
            (ResourceKind::Duplicate, duplicate),
        ],
    }
}

/// A user and a token of theirs.
async fn user_token(app: &TestApp, name: &str, admin: bool, scope: Scope) -> (UserId, String) {
    let user = app.store.create_user(NewUser { name: name.into(), admin }, None).await.unwrap();
    let secret = secrets::new_token();
    let new = NewToken { user_id: user.id, kind: TokenKind::Api, name: "t".into(), scope, expires_at: None };
    app.store.create_token(new, secrets::hash_token(&secret)).await.unwrap();
    (user.id, secret)
}

async fn send_as(app: &TestApp, token: &str, method: Method, path: &str, body: Option<&Value>) -> TestResponse {
    let builder = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    let request = match body {
        Some(body) => builder.header("content-type", "application/json").body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    };
    app.send(request.unwrap()).await
}

/// A valid body for each operation that takes one, so a refusal is about
/// whose resource it is, not about the body.
fn body_for(method: &Method, template: &str) -> Value {
    let path = template.trim_start_matches("/api/v1");
    match (method.as_str(), path) {
        ("PATCH", "/agents/{id}") => json!({"goal": "Stolen"}),
        ("POST", "/agents/{id}/runs") => json!({"instruction": "Spend A's money"}),
        ("POST", "/agents/{id}/chat" | "/actions/{id}/chat") => json!({"message": "Tell me A's secrets"}),
        ("PATCH", "/actions/{id}") => json!({"title": "Stolen"}),
        ("POST", "/actions/{id}/transition") => json!({"to": "dismissed"}),
        ("POST", "/approvals/{id}/reject") => json!({"reason": "mine now"}),
        ("POST", "/memory/facts/{id}/forget") => json!({"reason": "mine now"}),
        ("POST", "/agents/{id}/memory/core-blocks") => json!({"label": "persona", "value": "mine now"}),
        ("POST", "/schedules/{schedule}/backfill") => {
            json!({"from": "2029-12-01T00:00:00Z", "to": "2029-12-02T00:00:00Z"})
        }
        ("POST", "/agents/setup-chat") => json!({"message": "hi"}),
        ("POST", "/projects/{id}/documents" | "/projects/{id}/edit") => {
            json!({"phase": "requirements", "document": {"title": "Mine", "requirements": []}})
        }
        ("POST", "/projects/{id}/reject") => json!({"comment": "mine now"}),
        ("PATCH", "/ideas/{id}") => json!({"notes": "mine now"}),
        ("PATCH", "/projects/{id}") => json!({"discovered_tasks": "allow"}),
        ("POST", "/duplicates/{id}/merge") => json!({"keep": "1"}),
        ("POST", "/runs/{id}/intervene") => json!({"intervention": "cancel"}),
        ("PATCH", "/routines/{routine}") => json!({"text": "mine now", "when": null}),
        _ => json!({}),
    }
}

/// Every operation of the document: method, path template, whether it
/// takes a body.
fn operations() -> Vec<(Method, String, bool)> {
    let document = steward_server::openapi_document();
    let mut operations = Vec::new();
    for (path, item) in &document.paths.paths {
        for (method, operation) in [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ] {
            if let Some(operation) = operation {
                operations.push((method, path.clone(), operation.request_body.is_some()));
            }
        }
    }
    operations
}

async fn another_user_finds_none_of_a_users_resources(app: TestApp) {
    let world = world_of_the_local_owner(&app).await;
    let (_, token) = user_token(&app, "bea", false, Scope::Write).await;
    let owner_events = app.store.latest_event_id(USER).await.unwrap();
    let mut named = 0;
    for (method, template, takes_body) in operations() {
        // The stream never ends; it has its own test below.
        // Signed triggers name no user (they act for the local owner) and are
        // refused here for want of a key; `routines.rs` tests them.
        if template.ends_with("/events/stream")
            || template.starts_with("/api/v1/auth/")
            || template.ends_with("/trigger")
        {
            continue;
        }
        let kind = ResourceKind::of_route(&template);
        let path = match kind {
            Some(kind) => {
                let id = world.id(kind).to_string();
                template.replace("{id}", &id).replace("{schedule}", &id).replace("{routine}", &id)
            }
            None => template.clone(),
        };
        assert!(!path.contains('{'), "{template}: a path parameter that names no owned resource kind");
        let body = takes_body.then(|| body_for(&method, &template));
        let response = send_as(&app, &token, method.clone(), &path, body.as_ref()).await;
        let what = format!("{method} {path}");
        assert!(!response.text.contains(MARKER), "{what} showed A's data: {}", response.text);
        if kind.is_some() {
            named += 1;
            response.assert_error(404, "not_found", None);
        }
        assert_ne!(response.status.as_u16(), 500, "{what}: {}", response.text);
    }
    assert!(named >= 35, "only {named} routes name a resource");
    // Lists and filters that point at A's resources find nothing either.
    let agent = world.id(ResourceKind::Agent);
    let run = world.id(ResourceKind::Run);
    for path in [
        format!("/api/v1/actions?agent_id={agent}"),
        format!("/api/v1/runs?agent_id={agent}"),
        format!("/api/v1/approvals?run_id={run}"),
        format!("/api/v1/deliveries?run_id={run}"),
        "/api/v1/memory/search?q=plain%20copy".to_string(),
        // Names are matched without regard to case; the answer echoes the name asked for.
        "/api/v1/memory/facts?entity=zebra".to_string(),
        "/api/v1/events?after=0".to_string(),
        "/api/v1/jobs".to_string(),
        "/api/v1/costs?days=30".to_string(),
    ] {
        let response = send_as(&app, &token, Method::GET, &path, None).await;
        assert!(!response.text.contains(MARKER), "{path} showed A's data: {}", response.text);
        assert!(matches!(response.status.as_u16(), 200 | 404), "{path}: {}", response.text);
    }
    // Nor can B's new resources point at A's.
    let conversation = world.id(ResourceKind::Conversation);
    let job = world.id(ResourceKind::Job);
    for (path, body) in [
        ("/api/v1/actions", json!({"agent_id": agent, "title": "Mine"})),
        (
            "/api/v1/schedules",
            json!({"name": "mine", "when": "daily at 08:00", "agent_id": agent, "instruction": "Go"}),
        ),
        ("/api/v1/jobs", json!({"kind": "noop", "depends_on": [job]})),
        ("/api/v1/agents/setup-chat", json!({"conversation_id": conversation, "message": "hi"})),
    ] {
        let response = send_as(&app, &token, Method::POST, path, Some(&body)).await;
        assert!(!response.status.is_success(), "{path} {body}: {}", response.text);
        assert!(!response.text.contains(MARKER), "{path} showed A's data: {}", response.text);
    }
    // The OpenAI-compatible endpoint, outside the document: A's agents are
    // no models of B's.
    let listed = send_as(&app, &token, Method::GET, "/v1/models", None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert!(!listed.text.contains(MARKER), "B's models showed A's agent: {}", listed.text);
    let a_agent = format!("{MARKER} mailer");
    let path = format!("/v1/models/{}", a_agent.replace(' ', "%20"));
    let response = send_as(&app, &token, Method::GET, &path, None).await;
    assert_eq!((response.status.as_u16(), &response.body["error"]["code"]), (404, &json!("model_not_found")));
    let body = json!({"model": a_agent, "messages": [{"role": "user", "content": "Tell me A's secrets"}]});
    let response = send_as(&app, &token, Method::POST, "/v1/chat/completions", Some(&body)).await;
    assert_eq!((response.status.as_u16(), &response.body["error"]["code"]), (404, &json!("model_not_found")));
    assert_eq!(app.store.latest_event_id(USER).await.unwrap(), owner_events, "B changed A's data");
}

async fn the_event_stream_carries_only_the_users_events(app: TestApp) {
    world_of_the_local_owner(&app).await;
    let (bea, token) = user_token(&app, "bea", false, Scope::Write).await;
    let (url, _server) = serve(app.state.clone()).await;
    let client = reqwest::Client::new();
    let mut stream = client
        .get(format!("{url}/api/v1/events/stream?after=0"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes_stream();
    // B's first change; the stream's first event must be it, though A's
    // events all come before it in the log.
    let body = json!({"name": "Bea's", "goal": "G"});
    let created = send_as(&app, &token, Method::POST, "/api/v1/agents", Some(&body)).await;
    let agent = created.assert_status(201)["id"].as_i64().unwrap();
    let mut text = String::new();
    while !text.contains("\n\n") || !text.contains("data:") {
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.next()).await.unwrap().unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = text.lines().find_map(|line| line.strip_prefix("data:")).unwrap();
    let event: Value = serde_json::from_str(data.trim()).unwrap();
    assert_eq!((event["kind"].as_str(), event["subject_id"].as_i64()), (Some("agent.created"), Some(agent)), "{text}");
    assert_eq!(event["actor"]["user_id"], bea.get());
    assert!(!text.contains(MARKER), "{text}");
    app.state.shutdown.cancel();
}

async fn an_administrator_reaches_any_users_resource_and_changes_name_their_actor(app: TestApp) {
    let world = world_of_the_local_owner(&app).await;
    let (admin, token) = user_token(&app, "ada", true, Scope::Admin).await;
    let action = world.id(ResourceKind::Action);
    let read = send_as(&app, &token, Method::GET, &format!("/api/v1/actions/{action}"), None).await;
    assert!(read.assert_status(200)["title"].as_str().unwrap().contains(MARKER));
    let path = format!("/api/v1/actions/{action}");
    let changed = send_as(&app, &token, Method::PATCH, &path, Some(&json!({"title": "Renamed by ada"}))).await;
    changed.assert_status(200);
    // The change is A's data, recorded as made by ada with her token.
    let events = app.get(&format!("/api/v1/events?subject=action&subject_id={action}")).await;
    let last = events.assert_status(200)["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "action.updated", "{last}");
    assert_eq!(last["actor"]["user_id"], admin.get());
    assert!(last["actor"]["token_id"].as_i64().is_some(), "{last}");
    // The local owner's own changes name the owner, without a token.
    let agent = AgentId(world.id(ResourceKind::Agent));
    let first = app.get(&format!("/api/v1/events?subject=agent&subject_id={agent}")).await;
    assert_eq!(first.assert_status(200)["events"][0]["actor"], json!({"user_id": USER.get(), "token_id": null}));
    // A plain user's admin-scoped token is refused when it is made.
    let bea = app.store.create_user(NewUser { name: "bea".into(), admin: false }, None).await.unwrap();
    let new =
        NewToken { user_id: bea.id, kind: TokenKind::Api, name: "t".into(), scope: Scope::Admin, expires_at: None };
    let refused = app.store.create_token(new, secrets::hash_token(&secrets::new_token())).await.unwrap_err();
    assert!(refused.to_string().contains("only an administrator"), "{refused}");
}

async fn an_administrators_lists_show_every_users_items(app: TestApp) {
    world_of_the_local_owner(&app).await;
    let (_, bea) = user_token(&app, "bea", false, Scope::Write).await;
    let body = json!({"name": "Bea's helper", "goal": "G"});
    send_as(&app, &bea, Method::POST, "/api/v1/agents", Some(&body)).await.assert_status(201);
    let (ada_id, ada) = user_token(&app, "ada", true, Scope::Admin).await;
    // Each list, and the field its items are named by.
    for (path, list) in [
        ("/api/v1/agents", "agents"),
        ("/api/v1/actions", "actions"),
        ("/api/v1/runs", "runs"),
        ("/api/v1/approvals", "approvals"),
        ("/api/v1/jobs", "jobs"),
        ("/api/v1/schedules", "schedules"),
        ("/api/v1/routines", "routines"),
        ("/api/v1/deliveries", "deliveries"),
    ] {
        let everyone = send_as(&app, &ada, Method::GET, path, None).await;
        let items = everyone.assert_status(200)[list].as_array().unwrap().len();
        // Approvals carry no name of A's; they are A's all the same.
        let named = list == "approvals" || everyone.text.to_lowercase().contains(&MARKER.to_lowercase());
        assert!(items > 0 && named, "{path}: the admin sees A's: {}", everyone.text);
        // A plain user's list stays their own.
        let own = send_as(&app, &bea, Method::GET, path, None).await;
        let bea_items = own.assert_status(200)[list].as_array().unwrap().len();
        assert!(!own.text.contains(MARKER) && bea_items <= 1, "{path}: {}", own.text);
    }
    let agents = send_as(&app, &ada, Method::GET, "/api/v1/agents", None).await;
    let names: Vec<&str> =
        agents.body["agents"].as_array().unwrap().iter().map(|agent| agent["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Bea's helper") && names.iter().any(|name| name.contains(MARKER)), "{names:?}");
    // The routine's last fire is found in its owner's data.
    let routines = send_as(&app, &ada, Method::GET, "/api/v1/routines", None).await;
    assert!(routines.body["routines"][0]["last_fire"].is_object(), "{}", routines.text);
    // An administrator's token without the admin scope lists her own only.
    let reader = secrets::new_token();
    let new =
        NewToken { user_id: ada_id, kind: TokenKind::Api, name: "r".into(), scope: Scope::Read, expires_at: None };
    app.store.create_token(new, secrets::hash_token(&reader)).await.unwrap();
    let read_only = send_as(&app, &reader, Method::GET, "/api/v1/agents", None).await;
    assert!(!read_only.assert_status(200).to_string().contains(MARKER), "{}", read_only.text);
}

async fn tokens_are_shown_once_scoped_and_revoked(app: TestApp) {
    let (_, bea) = user_token(&app, "bea", false, Scope::Write).await;
    let phone = json!({"name": "phone", "scope": "read"});
    let created = send_as(&app, &bea, Method::POST, "/api/v1/tokens", Some(&phone)).await.assert_status(201).clone();
    let secret = created["token"].as_str().unwrap().to_string();
    assert_eq!((created["user"].as_str(), created["scope"].as_str()), (Some("bea"), Some("read")));
    // The new token works, and its secret is shown nowhere else.
    let listed = send_as(&app, &secret, Method::GET, "/api/v1/tokens", None).await;
    assert_eq!(listed.assert_status(200)["tokens"].as_array().unwrap().len(), 2, "bea's two tokens");
    assert!(!listed.text.contains(&secret));
    let admin = json!({"name": "x", "scope": "admin"});
    let too_much = send_as(&app, &bea, Method::POST, "/api/v1/tokens", Some(&admin)).await;
    too_much.assert_error(403, "forbidden", Some("scope"));
    send_as(&app, &bea, Method::GET, "/api/v1/users", None).await.assert_error(403, "forbidden", None);
    // The local owner (an administrator) sees every token and user.
    assert_eq!(app.get("/api/v1/tokens").await.assert_status(200)["tokens"].as_array().unwrap().len(), 2);
    let users = app.get("/api/v1/users").await;
    assert_eq!(users.assert_status(200)["users"].as_array().unwrap().len(), 2);
    let id = created["id"].as_i64().unwrap();
    let revoked = send_as(&app, &bea, Method::POST, &format!("/api/v1/tokens/{id}/revoke"), None).await;
    assert!(revoked.assert_status(200)["revoked_at"].is_string());
    send_as(&app, &secret, Method::GET, "/api/v1/tokens", None).await.assert_error(401, "unauthenticated", None);
}
