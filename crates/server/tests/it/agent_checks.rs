//! Validation at the door: an agent with an unknown tool or model, a model
//! whose provider has no key here, or `shell.run` on a server without
//! bubblewrap, is refused before anything is stored, naming the field and
//! the closest known name (or how to install what is missing).

use serde_json::json;
use steward_runtime::tools::ToolsConfig;
use steward_test_support::TestDatabase;

use crate::support::{TestApp, api_tests};

api_tests!(
    unknown_tools_are_refused_with_a_suggestion,
    unknown_providers_and_misspelt_models_are_refused,
    a_model_without_its_key_is_a_different_error,
    known_tools_and_models_are_accepted,
);

async fn unknown_tools_are_refused_with_a_suggestion(app: TestApp) {
    let body = json!({"name": "Writer", "goal": "G", "tools": ["http.fetch", "workspace.raed"]});
    let refused = app.refused(app.post("/api/v1/agents", body)).await;
    let message = refused.assert_error(422, "invalid_field", Some("tools[1]"));
    assert!(
        message.starts_with("unknown tool `workspace.raed` (did you mean `workspace.read`?); the tools are: "),
        "{message}"
    );
    assert!(message.contains("the tools are: ") && message.contains("artifacts.write"), "{message}");

    let agent = app.agent("Writer").await;
    let patch = json!({"tools": ["send_email"]});
    let refused = app.refused(app.patch(&format!("/api/v1/agents/{agent}"), patch)).await;
    let message = refused.assert_error(422, "invalid_field", Some("tools[0]"));
    assert!(message.starts_with("unknown tool `send_email`; the tools are: "), "nothing close: {message}");
    assert_eq!(app.get(&format!("/api/v1/agents/{agent}")).await.assert_status(200)["tools"], json!(null));
}

async fn unknown_providers_and_misspelt_models_are_refused(app: TestApp) {
    let cases = [
        (
            "antropic/claude-sonnet-4-5",
            "unknown provider `antropic` in `antropic/claude-sonnet-4-5` (did you mean `anthropic`?); the \
             providers are: anthropic, openai",
        ),
        (
            "anthropic/claude-sonet-4-5",
            "`anthropic/claude-sonet-4-5` is not a model anthropic lists; did you mean `anthropic/claude-sonnet-4-5`?",
        ),
    ];
    for (model, expected) in cases {
        let body = json!({"name": "Writer", "goal": "G", "model": model});
        let refused = app.refused(app.post("/api/v1/agents", body)).await;
        assert_eq!(refused.assert_error(422, "invalid_field", Some("model")), expected);
    }
    let agent = app.agent("Writer").await;
    let refused = app.refused(app.patch(&format!("/api/v1/agents/{agent}"), json!({"model": "anthrop/x"}))).await;
    refused.assert_error(422, "invalid_field", Some("model"));
}

async fn a_model_without_its_key_is_a_different_error(app: TestApp) {
    // The test runtime has an Anthropic key and no OpenAI key.
    let body = json!({"name": "Writer", "goal": "G", "model": "openai/gpt-4.1-mini"});
    let refused = app.refused(app.post("/api/v1/agents", body)).await;
    assert_eq!(
        refused.assert_error(422, "model_unavailable", Some("model")),
        "`openai/gpt-4.1-mini` cannot be used here: provider openai has no API key on this server; set \
         OPENAI_API_KEY in the environment of `steward serve` and restart it, or choose a model of a provider \
         that has its key"
    );
}

async fn known_tools_and_models_are_accepted(app: TestApp) {
    // A model the provider does not list but that is no misspelling (a newer
    // version) is the person's choice.
    let body = json!({
        "name": "Writer", "goal": "G", "model": "anthropic/claude-opus-4-5",
        "tools": ["workspace.read", "skills.open", "actions.create"]
    });
    let created = app.post("/api/v1/agents", body).await;
    assert_eq!(created.assert_status(201)["model"], "anthropic/claude-opus-4-5");
    // A name not of the form provider/model keeps the agent's own message.
    let body = json!({"name": "Other", "goal": "G", "model": "gpt-5"});
    let refused = app.refused(app.post("/api/v1/agents", body)).await;
    let message = refused.assert_error(422, "invalid_field", Some("model"));
    assert!(message.contains("is not of the form provider/model"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_tool_without_bubblewrap_is_refused_saying_how_to_install_it() {
    let mut tools = ToolsConfig::default();
    tools.shell.bwrap = "/nonexistent/bwrap".into();
    let app = TestApp::with_tools(TestDatabase::sqlite(), &tools, |state| state).await;
    let body = json!({"name": "Builder", "goal": "G", "tools": ["workspace.read", "shell.run"]});
    let refused = app.refused(app.post("/api/v1/agents", body)).await;
    let message = refused.assert_error(422, "invalid_field", Some("tools[1]"));
    assert!(message.starts_with("`shell.run` cannot be enabled on this server: "), "{message}");
    assert!(message.contains("apt-get install bubblewrap"), "{message}");

    let agent = app.agent("Builder").await;
    let refused = app.refused(app.patch(&format!("/api/v1/agents/{agent}"), json!({"tools": ["shell.run"]}))).await;
    refused.assert_error(422, "invalid_field", Some("tools[0]"));
    assert_eq!(app.get(&format!("/api/v1/agents/{agent}")).await.assert_status(200)["tools"], json!(null));
}
