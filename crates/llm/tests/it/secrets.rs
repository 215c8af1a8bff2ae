//! API keys never show up in `Debug` output, error messages or logs, even
//! when the provider quotes the key back in its error.

use std::io::Write;
use std::sync::{Arc, Mutex};

use steward_fake_llm::{FakeLlm, Fault};
use steward_llm::{ChatRequest, ErrorKind, LlmConfig, ModelRegistry, Protocol};

use crate::support::{
    ANTHROPIC_TEST_KEY, OPENAI_TEST_KEY, PROTOCOLS, provider_for, raw_model, retrying_model, test_timeouts,
};

fn key_of(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Anthropic => ANTHROPIC_TEST_KEY,
        Protocol::OpenAi => OPENAI_TEST_KEY,
    }
}

#[tokio::test]
async fn debug_output_of_clients_models_and_registries_hides_keys() {
    let fake = FakeLlm::start().await.unwrap();
    for protocol in PROTOCOLS {
        let provider = provider_for(&fake, protocol, test_timeouts());
        let model = raw_model(&fake, protocol);
        let (retrying, _) = retrying_model(model.clone(), 1);
        for printed in
            [format!("{provider:?}"), format!("{model:?}"), format!("{retrying:?}"), format!("{provider:#?}")]
        {
            assert!(!printed.contains(key_of(protocol)), "{printed}");
        }
    }
    let environment = |name: &str| match name {
        "ANTHROPIC_API_KEY" => Some(ANTHROPIC_TEST_KEY.to_owned()),
        "OPENAI_API_KEY" => Some(OPENAI_TEST_KEY.to_owned()),
        _ => None,
    };
    let registry = ModelRegistry::new(&LlmConfig::default(), &environment).unwrap();
    let model = registry.chat_model("anthropic/claude-sonnet-4-5").unwrap();
    let printed = format!("{registry:?} {model:?} {:?}", registry.providers());
    assert!(!printed.contains(ANTHROPIC_TEST_KEY) && !printed.contains(OPENAI_TEST_KEY), "{printed}");
}

/// Collects everything `tracing` writes while it is installed on this thread.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_provider_error_quoting_the_key_reaches_neither_the_error_nor_the_log() {
    let log = CapturedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        // A retryable error that quotes the key is logged by the retry layer …
        fake.push(Fault::http(steward_fake_llm::ErrorSpec {
            status: 500,
            anthropic_type: "api_error".into(),
            openai_type: "server_error".into(),
            openai_code: None,
            message: "internal error while checking key {api_key}".into(),
        }));
        // … and an authentication error quoting it is returned.
        fake.push(Fault::authentication_echoing_key());
        let (model, _) = retrying_model(raw_model(&fake, protocol), 2);
        let error = model.complete(ChatRequest::from_user_text("x")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication);
        let shown = format!("{error} {error:?} {}", error.message());
        assert!(!shown.contains(key_of(protocol)), "{shown}");
        assert!(error.message().contains("[redacted]"), "the fake did quote the key: {}", error.message());
        assert!(fake.requests().iter().all(|request| request.presented_api_key() == Some(key_of(protocol))));
    }
    let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("retrying model call"), "the retry was logged: {logged}");
    assert!(!logged.contains(ANTHROPIC_TEST_KEY) && !logged.contains(OPENAI_TEST_KEY), "{logged}");
}
