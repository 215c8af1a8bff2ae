//! The three timeouts, with real (short) waits: a hung request trips the
//! first-byte timeout, a stalled stream the idle timeout, a listener that
//! never accepts the connect timeout. Timeouts are retryable.

use std::time::Duration;

use steward_fake_llm::{FakeLlm, Fault, Reply};
use steward_llm::{ChatRequest, ErrorKind, ProviderClient, TimeoutPhase, Timeouts};

use crate::support::{PROTOCOLS, model_name, provider_for, retrying_model, stream_all, text_of};

fn short(connect_ms: u64, first_byte_ms: u64, stream_idle_ms: u64) -> Timeouts {
    Timeouts {
        connect: Duration::from_millis(connect_ms),
        first_byte: Duration::from_millis(first_byte_ms),
        stream_idle: Duration::from_millis(stream_idle_ms),
    }
}

#[tokio::test]
async fn a_hung_request_trips_the_first_byte_timeout_and_is_retried() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(Fault::hang());
        fake.push(Reply::text("second try"));
        let model = provider_for(&fake, protocol, short(5_000, 300, 5_000)).chat_model(model_name(protocol), None);
        let (retrying, sleeper) = retrying_model(model.clone(), 2);
        let (events, error) = stream_all(retrying.as_ref(), ChatRequest::from_user_text("x")).await;
        assert!(error.is_none(), "{protocol:?}: {error:?}");
        assert_eq!(text_of(&events), "second try");
        assert_eq!(sleeper.delays(), vec![Duration::from_secs(1)]);

        fake.push(Fault::hang());
        let (_, error) = stream_all(model.as_ref(), ChatRequest::from_user_text("x")).await;
        let error = error.unwrap();
        assert_eq!(error.kind(), ErrorKind::Timeout(TimeoutPhase::FirstByte), "{protocol:?}: {error}");
        assert!(error.is_retryable());
    }
}

#[tokio::test]
async fn a_slow_first_byte_is_waited_for_within_the_budget_and_not_beyond() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(Reply::text("slow").with_first_byte_delay(Duration::from_millis(200)));
        fake.push(Reply::text("too slow").with_first_byte_delay(Duration::from_millis(4_000)));
        // Wide margins on both sides, so a busy CI machine cannot flip the outcome.
        let model = provider_for(&fake, protocol, short(5_000, 2_000, 5_000)).chat_model(model_name(protocol), None);
        let response = model.complete(ChatRequest::from_user_text("x")).await.unwrap();
        assert_eq!(response.text(), "slow");
        assert!(
            response.time_to_first_token.unwrap() >= Duration::from_millis(200),
            "{:?}",
            response.time_to_first_token
        );
        let error = model.complete(ChatRequest::from_user_text("x")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Timeout(TimeoutPhase::FirstByte), "{protocol:?}: {error}");
    }
}

#[tokio::test]
async fn a_stalled_stream_trips_the_idle_timeout() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(Fault::stall_after(5, Reply::text("this reply stops talking")));
        // Pauses shorter than the idle timeout are fine.
        fake.push(Reply::text("slow but steady").with_delay_between_chunks(Duration::from_millis(50)));
        let model = provider_for(&fake, protocol, short(5_000, 5_000, 1_000)).chat_model(model_name(protocol), None);
        let (events, error) = stream_all(model.as_ref(), ChatRequest::from_user_text("x")).await;
        let error = error.unwrap();
        assert_eq!(error.kind(), ErrorKind::Timeout(TimeoutPhase::StreamIdle), "{protocol:?}: {error}");
        assert!(!text_of(&events).is_empty());
        let response = model.complete(ChatRequest::from_user_text("x")).await.unwrap();
        assert_eq!(response.text(), "slow but steady");
    }
}

#[tokio::test]
async fn a_listener_that_never_accepts_trips_the_connect_timeout() {
    // A listening socket with a backlog of zero that is never accepted from:
    // once its queue is full the kernel drops new connection attempts, so
    // connecting hangs — on loopback, without any outside address.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let address = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    loop {
        match std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)) {
            Ok(stream) => queued.push(stream),
            Err(_) => break,
        }
        assert!(queued.len() < 64, "the accept queue never filled up");
    }
    for protocol in PROTOCOLS {
        let provider =
            ProviderClient::new("stuck", protocol, &format!("http://{address}"), None, short(300, 5_000, 5_000))
                .unwrap();
        let (_, error) = stream_all(provider.chat_model("m", None).as_ref(), ChatRequest::from_user_text("x")).await;
        let error = error.unwrap();
        assert_eq!(error.kind(), ErrorKind::Timeout(TimeoutPhase::Connect), "{protocol:?}: {error}");
    }
    drop(listener);
}
