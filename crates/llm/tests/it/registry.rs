//! Resolving `provider/model` names from config and environment, the
//! messages a user sees when nothing is configured, and calls through the
//! registry end to end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use steward_fake_llm::{FakeLlm, Fault, Reply, ReplyUsage};
use steward_llm::{
    ChatRequest, ErrorKind, KeyStatus, LlmConfig, ModelPrice, ModelRegistry, Protocol, ProviderConfig,
    RecordingSleeper, Retrier, RetryPolicy,
};

use crate::support::ANTHROPIC_TEST_KEY;

fn environment(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> =
        pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
    move |name| map.get(name).cloned()
}

fn ollama(base_url: &str) -> ProviderConfig {
    ProviderConfig {
        protocol: Protocol::OpenAi,
        base_url: Some(base_url.to_owned()),
        api_key_env: None,
        models: vec!["llama3.2".into()],
        token_limit_field: None,
    }
}

#[test]
fn with_nothing_configured_the_error_names_the_variables_to_set() {
    let registry = ModelRegistry::new(&LlmConfig::default(), &environment(&[])).unwrap();
    assert!(!registry.has_usable_provider());
    let summaries = registry.providers();
    assert_eq!(
        summaries.iter().map(|summary| (summary.name.as_str(), summary.key)).collect::<Vec<_>>(),
        [("anthropic", KeyStatus::Missing), ("openai", KeyStatus::Missing)]
    );
    let error = registry.default_chat_model().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotConfigured);
    for needle in ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "[llm.providers.ollama]"] {
        assert!(error.message().contains(needle), "{}", error.message());
    }
    // An empty variable counts as unset.
    let registry = ModelRegistry::new(&LlmConfig::default(), &environment(&[("ANTHROPIC_API_KEY", "  ")])).unwrap();
    assert!(!registry.has_usable_provider());
}

#[test]
fn a_provider_without_its_key_says_which_variable_to_set() {
    let registry = ModelRegistry::new(&LlmConfig::default(), &environment(&[("OPENAI_API_KEY", "sk-1")])).unwrap();
    assert_eq!(registry.default_model().unwrap().to_string(), "openai/gpt-4.1-mini");
    let error = registry.chat_model("anthropic/claude-sonnet-4-5").unwrap_err();
    assert_eq!(error.message(), "`anthropic/claude-sonnet-4-5` needs an API key: set ANTHROPIC_API_KEY");
    let error = registry.chat_model("mystery/model").unwrap_err();
    assert!(
        error.message().contains("unknown provider `mystery`") && error.message().contains("anthropic, openai"),
        "{}",
        error.message()
    );
    assert!(registry.chat_model("no-slash-and-unknown").is_err());
}

#[test]
fn configured_providers_defaults_and_bare_names() {
    let mut config = LlmConfig::default();
    config.providers.insert("ollama".into(), ollama("http://localhost:11434/v1"));
    let registry = ModelRegistry::new(&config, &environment(&[])).unwrap();
    let ollama_summary = registry.providers().into_iter().find(|summary| summary.name == "ollama").unwrap();
    assert_eq!(ollama_summary.key, KeyStatus::NotRequired);
    assert!(!ollama_summary.built_in);
    assert_eq!(registry.default_model().unwrap().to_string(), "ollama/llama3.2");
    assert_eq!(registry.resolve_name("llama3.2").unwrap().to_string(), "ollama/llama3.2");

    config.default_model = Some("ollama/qwen3".into());
    let registry = ModelRegistry::new(&config, &environment(&[("ANTHROPIC_API_KEY", "k")])).unwrap();
    assert_eq!(registry.default_model().unwrap().to_string(), "ollama/qwen3");

    let mut keyed = ollama("http://localhost:11434/v1");
    keyed.api_key_env = Some("OLLAMA_API_KEY".into());
    config.providers.insert("ollama".into(), keyed);
    let registry = ModelRegistry::new(&config, &environment(&[])).unwrap();
    assert!(registry.chat_model("ollama/llama3.2").unwrap_err().message().contains("set OLLAMA_API_KEY"));

    let mut broken = LlmConfig::default();
    broken.providers.insert("vllm".into(), ProviderConfig { base_url: None, ..ollama("") });
    assert!(
        ModelRegistry::new(&broken, &environment(&[]))
            .unwrap_err()
            .message()
            .contains("llm.providers.vllm.base_url is required")
    );
    let mut clash = LlmConfig::default();
    clash.providers.insert("anthropic".into(), ollama("http://x"));
    assert!(ModelRegistry::new(&clash, &environment(&[])).is_err());
}

#[test]
fn built_in_base_urls_come_from_the_sdk_variables() {
    let registry =
        ModelRegistry::new(&LlmConfig::default(), &environment(&[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")]))
            .unwrap();
    let urls: Vec<String> = registry.providers().into_iter().map(|summary| summary.base_url).collect();
    assert_eq!(urls, ["https://api.anthropic.com", "http://127.0.0.1:9/v1"]);
}

#[tokio::test]
async fn calls_through_the_registry_reach_the_configured_servers_with_prices_and_fallback() {
    let anthropic_fake = FakeLlm::start().await.unwrap();
    let local_fake = FakeLlm::start().await.unwrap();
    let mut config = LlmConfig::default();
    config.providers.insert("local".into(), ollama(&local_fake.openai_base_url()));
    config
        .prices
        .insert("local/llama3.2".into(), ModelPrice { input: 0.0, output: 0.0, cache_read: None, cache_write: None });
    config.fallback_model = Some("local/llama3.2".into());
    let sleeper = RecordingSleeper::new();
    let registry = ModelRegistry::new(
        &config,
        &environment(&[
            ("ANTHROPIC_API_KEY", ANTHROPIC_TEST_KEY),
            ("ANTHROPIC_BASE_URL", &anthropic_fake.anthropic_base_url()),
        ]),
    )
    .unwrap()
    .with_retrier(
        Retrier::new(RetryPolicy { max_retries: 1, ..RetryPolicy::default() })
            .with_sleeper(sleeper.clone())
            .with_jitter(Arc::new(|| 0.0)),
    );

    let usage = ReplyUsage { input_tokens: 1_000_000, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 };
    anthropic_fake.push(Reply::text("hello from claude").with_usage(usage));
    let response = registry
        .chat_model("anthropic/claude-sonnet-4-5")
        .unwrap()
        .complete(ChatRequest::from_user_text("hi"))
        .await
        .unwrap();
    assert_eq!(response.text(), "hello from claude");
    assert_eq!(response.cost_usd, Some(3.0), "priced from the built-in table");
    assert_eq!(anthropic_fake.requests()[0].header("x-api-key"), Some(ANTHROPIC_TEST_KEY));

    anthropic_fake.push(Fault::overloaded());
    anthropic_fake.push(Fault::overloaded());
    local_fake.push(Reply::text("hello from the fallback").with_usage(usage));
    let response = registry.default_chat_model().unwrap().complete(ChatRequest::from_user_text("hi")).await.unwrap();
    assert_eq!(
        (response.text().as_str(), response.model.to_string().as_str()),
        ("hello from the fallback", "local/llama3.2")
    );
    assert_eq!(response.cost_usd, Some(0.0), "priced at zero by the config, so known to be free");
    assert_eq!(sleeper.delays(), vec![Duration::from_secs(1)]);
    assert!(local_fake.requests()[0].header("authorization").is_none(), "a keyless provider gets no auth header");
    assert_eq!(local_fake.requests()[0].body["max_tokens"], 4096, "compatible servers get max_tokens");
}
