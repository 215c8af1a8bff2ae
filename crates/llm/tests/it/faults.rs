//! Every injected fault: the error kind it becomes, whether it is retried,
//! and the delays the retry layer asked for (recorded, not slept).

use std::sync::Arc;
use std::time::Duration;

use steward_fake_llm::{FakeLlm, Fault, Reply};
use steward_llm::{ChatModel, ChatRequest, ErrorKind, FallbackModel, Protocol, StreamEvent};

use crate::support::{PROTOCOLS, raw_model, retrying_model, stream_all, text_of};

fn seconds(values: &[f64]) -> Vec<Duration> {
    values.iter().map(|value| Duration::from_secs_f64(*value)).collect()
}

fn request() -> ChatRequest {
    ChatRequest::from_user_text("hello")
}

/// Scripts `faults`, then a good reply, and calls a model with `max_retries`.
async fn run_after_faults(
    protocol: Protocol,
    faults: Vec<Fault>,
    max_retries: u32,
) -> (FakeLlm, Result<String, steward_llm::LlmError>, Vec<Duration>) {
    let fake = FakeLlm::start().await.unwrap();
    for fault in faults {
        fake.push(fault);
    }
    fake.push(Reply::text("finally"));
    let (model, sleeper) = retrying_model(raw_model(&fake, protocol), max_retries);
    let (events, error) = stream_all(model.as_ref(), request()).await;
    let outcome = match error {
        Some(error) => Err(error),
        None => Ok(text_of(&events)),
    };
    let delays = sleeper.delays();
    (fake, outcome, delays)
}

#[tokio::test]
async fn rate_limits_wait_as_long_as_retry_after_says() {
    for protocol in PROTOCOLS {
        let (fake, outcome, delays) = run_after_faults(protocol, vec![Fault::rate_limited(7)], 3).await;
        assert_eq!(outcome.unwrap(), "finally", "{protocol:?}");
        assert_eq!(delays, seconds(&[7.0]));
        assert_eq!(fake.requests().len(), 2);

        let (_, outcome, delays) =
            run_after_faults(protocol, vec![Fault::rate_limited_ms(1500), Fault::rate_limited_ms(250)], 3).await;
        assert_eq!(outcome.unwrap(), "finally");
        assert_eq!(delays, seconds(&[1.5, 0.25]), "{protocol:?}: retry-after-ms is honoured");

        let (_, outcome, delays) = run_after_faults(protocol, vec![Fault::rate_limited_without_hint()], 3).await;
        assert_eq!(outcome.unwrap(), "finally");
        assert_eq!(delays, seconds(&[1.0]), "{protocol:?}: without a hint, the backoff applies");
    }
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_goes_back_to_the_caller() {
    for protocol in PROTOCOLS {
        let (fake, outcome, delays) = run_after_faults(protocol, vec![Fault::rate_limited(600)], 3).await;
        let error = outcome.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::RateLimited);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(600)));
        assert_eq!(error.status(), Some(429));
        assert!(delays.is_empty());
        assert_eq!(fake.requests().len(), 1, "{protocol:?}");
    }
}

#[tokio::test]
async fn server_errors_and_overload_back_off_exponentially_then_give_up() {
    for protocol in PROTOCOLS {
        let (_, outcome, delays) =
            run_after_faults(protocol, vec![Fault::server_error(), Fault::server_error()], 3).await;
        assert_eq!(outcome.unwrap(), "finally", "{protocol:?}");
        assert_eq!(delays, seconds(&[1.0, 2.0]));

        let overloads = vec![Fault::overloaded(), Fault::overloaded(), Fault::overloaded(), Fault::overloaded()];
        let (fake, outcome, delays) = run_after_faults(protocol, overloads, 3).await;
        let error = outcome.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Overloaded, "{protocol:?}: {error}");
        assert_eq!(error.status(), Some(if protocol == Protocol::Anthropic { 529 } else { 503 }));
        assert_eq!(delays, seconds(&[1.0, 2.0, 4.0]));
        assert_eq!(fake.requests().len(), 4);
    }
}

#[tokio::test]
async fn permanent_errors_are_classified_and_never_retried() {
    let cases = [
        (Fault::authentication_echoing_key(), ErrorKind::Authentication),
        (Fault::context_too_long(), ErrorKind::ContextTooLong),
        (Fault::content_filtered(), ErrorKind::Refused),
        (Fault::invalid_request("messages: roles must alternate"), ErrorKind::InvalidRequest),
    ];
    for protocol in PROTOCOLS {
        for (fault, kind) in cases.clone() {
            let (fake, outcome, delays) = run_after_faults(protocol, vec![fault], 3).await;
            let error = outcome.unwrap_err();
            assert_eq!(error.kind(), kind, "{protocol:?}: {error}");
            assert!(!error.is_retryable());
            assert!(delays.is_empty());
            assert_eq!(fake.requests().len(), 1);
        }
    }
}

#[tokio::test]
async fn a_stream_cut_before_any_output_is_retried_invisibly() {
    for protocol in PROTOCOLS {
        let (fake, outcome, delays) =
            run_after_faults(protocol, vec![Fault::cut_after(1, Reply::text("lost"))], 3).await;
        assert_eq!(outcome.unwrap(), "finally", "{protocol:?}");
        assert_eq!(delays, seconds(&[1.0]));
        assert_eq!(fake.requests().len(), 2);
    }
}

#[tokio::test]
async fn a_stream_cut_after_output_ends_the_stream_but_complete_retries_it() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(Fault::cut_after(6, Reply::text("this answer is cut off half way through")));
        let (model, sleeper) = retrying_model(raw_model(&fake, protocol), 3);

        let (events, error) = stream_all(model.as_ref(), request()).await;
        let error = error.unwrap();
        assert_eq!(error.kind(), ErrorKind::Connection, "{protocol:?}: {error}");
        assert!(!text_of(&events).is_empty(), "some text was already passed on");
        assert!(sleeper.delays().is_empty(), "streamed output is never replayed");

        fake.push(Fault::cut_after(6, Reply::text("this answer is cut off half way through")));
        fake.push(Reply::text("whole answer"));
        let response = model.complete(request()).await.unwrap();
        assert_eq!(response.text(), "whole answer");
        assert_eq!(sleeper.delays(), seconds(&[1.0]));
        assert_eq!(fake.requests().len(), 3);
    }
}

#[tokio::test]
async fn a_malformed_stream_is_reported_and_not_retried() {
    for protocol in PROTOCOLS {
        let (fake, outcome, delays) =
            run_after_faults(protocol, vec![Fault::malformed_after(2, Reply::text("x"))], 3).await;
        let error = outcome.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MalformedResponse, "{protocol:?}: {error}");
        assert!(delays.is_empty());
        assert_eq!(fake.requests().len(), 1);
    }
}

#[tokio::test]
async fn an_error_event_in_the_stream_is_classified() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(Fault::overloaded_mid_stream(1, Reply::text("x")));
        fake.push(Fault::overloaded_mid_stream(5, Reply::text("partial answer")));
        fake.push(Reply::text("recovered"));
        let (model, sleeper) = retrying_model(raw_model(&fake, protocol), 3);
        // Before any output: retried.
        let (events, error) = stream_all(model.as_ref(), request()).await;
        assert_eq!(error.map(|error| error.kind()), Some(ErrorKind::Overloaded), "{protocol:?}");
        assert!(!text_of(&events).is_empty());
        assert_eq!(sleeper.delays(), seconds(&[1.0]));
        let response = model.complete(request()).await.unwrap();
        assert_eq!(response.text(), "recovered");
        let started = events.iter().filter(|event| matches!(event, StreamEvent::Started { .. })).count();
        assert_eq!(started, 1, "the failed first attempt left no trace in the stream");
    }
}

#[tokio::test]
async fn an_unreachable_provider_is_a_retryable_connection_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    for protocol in PROTOCOLS {
        let provider = steward_llm::ProviderClient::new(
            "nowhere",
            protocol,
            &format!("http://127.0.0.1:{port}"),
            None,
            crate::support::test_timeouts(),
        )
        .unwrap();
        let (model, sleeper) = retrying_model(provider.chat_model("m", None), 2);
        let (_, error) = stream_all(model.as_ref(), request()).await;
        let error = error.unwrap();
        assert_eq!(error.kind(), ErrorKind::Connection, "{error}");
        assert!(error.message().contains("could not connect"), "{error}");
        assert_eq!(sleeper.delays(), seconds(&[1.0, 2.0]));
    }
}

#[tokio::test]
async fn the_fallback_model_answers_when_the_primary_stays_overloaded() {
    let primary_fake = FakeLlm::start().await.unwrap();
    let fallback_fake = FakeLlm::start().await.unwrap();
    primary_fake.push(Fault::overloaded());
    primary_fake.push(Fault::overloaded());
    fallback_fake.push(Reply::text("from the fallback"));
    fallback_fake.push(Reply::text("fallback again"));
    primary_fake.push(Fault::overloaded());
    primary_fake.push(Fault::overloaded());
    let (primary, sleeper) = retrying_model(raw_model(&primary_fake, Protocol::Anthropic), 1);
    let (fallback, _) = retrying_model(raw_model(&fallback_fake, Protocol::OpenAi), 1);
    let model: Arc<dyn ChatModel> = Arc::new(FallbackModel::new(primary, fallback));
    assert_eq!(model.id().to_string(), "anthropic/claude-sonnet-4-5");

    let (events, error) = stream_all(model.as_ref(), request()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text_of(&events), "from the fallback");
    let StreamEvent::Finished(finish) = events.last().unwrap() else { panic!() };
    assert_eq!(finish.model.to_string(), "openai/gpt-4.1-mini", "the cost belongs to the model that answered");
    assert_eq!(sleeper.delays(), seconds(&[1.0]));

    let response = model.complete(request()).await.unwrap();
    assert_eq!((response.text().as_str(), response.model.provider()), ("fallback again", "openai"));
    assert_eq!(primary_fake.requests().len(), 4);

    // A permanent error does not fall back.
    primary_fake.push(Fault::invalid_request("bad"));
    let error = model.complete(request()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    assert_eq!(fallback_fake.requests().len(), 2);
}
