//! Deliveries through the worker pool against local fakes on real sockets:
//! Slack (rate limited, then fine; unknown channels; a DM; long output;
//! an attempt in doubt), a signed webhook, an SMTP server that is down and
//! then up, a Slack incoming webhook and a file. Each is sent once.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use steward_domain::delivery::{Delivery, DeliveryStatus, Destination, NewDeliveries};
use steward_domain::{AgentId, NewAgent, NewRun, Run, RunOutcome};
use steward_runtime::clock::SharedClock;
use steward_runtime::deliveries::{Content, Deliverer, DeliveriesConfig, DeliveryHandler, SmtpTls};
use steward_runtime::{HandlerRegistry, WorkerPool, WorkerPoolConfig};
use steward_store::{ClaimRequest, JobOutcome, RunFinish, Settlement, Store};
use steward_test_support::fakes::slack::{FakeSlack, SlackFault};
use steward_test_support::fakes::smtp::SmtpSink;
use steward_test_support::fakes::webhook::WebhookReceiver;

use crate::support::{USER, eventually, pool_tests};

const TOKEN: &str = "xoxb-test-token-0123456789";
const SIGNING_KEY: &str = "whsec-test-signing-key";

struct Setup {
    slack: FakeSlack,
    receiver: WebhookReceiver,
    smtp: SmtpSink,
}

impl Setup {
    async fn start(smtp_up: bool) -> Setup {
        let slack = FakeSlack::start(TOKEN, &[("plans", "C0PLANS"), ("team", "C0TEAM")]).await.unwrap();
        let receiver = WebhookReceiver::start(SIGNING_KEY).await.unwrap();
        let smtp = if smtp_up { SmtpSink::start().await.unwrap() } else { SmtpSink::down_on_free_port().unwrap() };
        Setup { slack, receiver, smtp }
    }

    fn deliverer(&self, token: &str) -> Arc<Deliverer> {
        let mut config = DeliveriesConfig {
            slack_api_base: self.slack.api_base(),
            allow: vec!["127.0.0.1".into()],
            timeout_secs: 5,
            public_url: "http://steward.test".into(),
            ..DeliveriesConfig::default()
        };
        config.smtp.host = "127.0.0.1".into();
        config.smtp.port = self.smtp.port();
        config.smtp.tls = SmtpTls::None;
        config.smtp.from = "Steward <steward@example.com>".into();
        let env = [
            ("SLACK_BOT_TOKEN".to_string(), token.to_string()),
            ("STEWARD_WEBHOOK_SECRET".to_string(), SIGNING_KEY.to_string()),
            ("HOOK_URL".to_string(), self.receiver.url()),
            ("DEAD_HOOK".to_string(), "http://127.0.0.1:9/services/secret-path-42".to_string()),
        ];
        Arc::new(Deliverer::new(config, env, SharedClock::system()).unwrap())
    }
}

fn pool(store: &Arc<dyn Store>, deliverer: Arc<Deliverer>) -> WorkerPool {
    let mut handlers = HandlerRegistry::with_builtins();
    handlers.register(steward_domain::delivery::JOB_KIND, DeliveryHandler::new(store.clone(), deliverer));
    let mut config = WorkerPoolConfig::new("delivery-worker", 4).with_lease(Duration::from_secs(10));
    config.poll_interval = Duration::from_millis(200);
    WorkerPool::start(store.clone(), handlers, config)
}

/// A run finished with `output`, its job completed (as the agent runtime would).
async fn finished_run(store: &dyn Store, output: &str) -> Run {
    let agent: AgentId = store
        .create_agent(USER, NewAgent { name: "Planner".into(), goal: "Plan the day".into(), ..NewAgent::default() })
        .await
        .unwrap()
        .id;
    let run = store
        .start_run(
            USER,
            NewRun {
                agent_id: agent,
                action_id: None,
                instruction: "Plan".into(),
                limits: Default::default(),
                run_at: None,
            },
        )
        .await
        .unwrap();
    let mut request = ClaimRequest::new("runner", 1, Duration::from_secs(30));
    request.queues = Some(vec!["agents".into()]);
    let job = store.claim(request).await.unwrap().jobs.remove(0);
    store.begin_run(run.id, job.id).await.unwrap();
    let finish = RunFinish { outcome: RunOutcome::Completed, output: Some(output.into()), error: None };
    store.finish_run(run.id, finish).await.unwrap();
    let settlement = Settlement {
        lease: job.lease(),
        worker_id: "runner".into(),
        outcome: JobOutcome::Completed { result: json!({}) },
    };
    store.settle(vec![settlement]).await.unwrap();
    store.get_run(USER, run.id).await.unwrap()
}

async fn deliver(store: &dyn Store, run: &Run, uri: &str) -> Delivery {
    let destinations = vec![Destination::parse("deliver", uri).unwrap()];
    store
        .create_deliveries(USER, NewDeliveries { run_id: run.id, fire_id: None, destinations })
        .await
        .unwrap()
        .remove(0)
}

async fn settled(store: &dyn Store, delivery: &Delivery, status: DeliveryStatus) -> Delivery {
    eventually(&format!("delivery {} is {status}", delivery.id), || async {
        store.get_delivery(USER, delivery.id).await.unwrap().status == status
    })
    .await;
    store.get_delivery(USER, delivery.id).await.unwrap()
}

const PLAN: &str = "# Monday plan\n\n- **09:00** Standup\n- 14:00 Review with Ana\n\nFocus on the launch.";

async fn slack_rate_limited_then_fine_posts_one_message(store: Arc<dyn Store>) {
    let setup = Setup::start(true).await;
    setup.slack.push_fault(SlackFault::RateLimited { retry_after_secs: 1 });
    let run = finished_run(store.as_ref(), PLAN).await;
    let pool = pool(&store, setup.deliverer(TOKEN));
    let delivery = deliver(store.as_ref(), &run, "slack:#plans").await;
    let sent = settled(store.as_ref(), &delivery, DeliveryStatus::Sent).await;
    assert_eq!((sent.attempts, sent.http_status), (2, Some(200)));
    let messages = setup.slack.messages();
    assert_eq!(messages.len(), 1, "one message: {messages:?}");
    assert_eq!(messages[0]["channel"], "C0PLANS");
    assert_eq!(messages[0]["blocks"][0]["text"]["text"], "Monday plan");
    assert_eq!(messages[0]["metadata"]["event_payload"]["key"], json!(sent.idempotency_key));
    assert!(messages[0]["text"].as_str().unwrap().contains("09:00 Standup"));
    let context = messages[0]["blocks"].as_array().unwrap().last().unwrap()["elements"][0]["text"].clone();
    assert_eq!(
        context,
        json!(format!("run {} · cost $0.0000 · <http://steward.test/runs/{}|view the run>", run.id, run.id))
    );
    assert!(setup.slack.violations().is_empty(), "{:?}", setup.slack.violations());
    // The retry looked for what the first attempt might have posted first.
    let calls = setup.slack.calls();
    assert_eq!(calls.iter().filter(|call| *call == "chat.postMessage").count(), 2, "{calls:?}");
    assert!(calls.contains(&"conversations.history".to_string()), "{calls:?}");
    pool.shutdown().await;
}

async fn a_dm_is_opened_and_long_output_is_split_in_order(store: Arc<dyn Store>) {
    let setup = Setup::start(true).await;
    let long: String = (0..400).map(|i| format!("- task number {i} with some words to fill the line\n")).collect();
    let run = finished_run(store.as_ref(), &format!("# Backlog\n\n{long}")).await;
    let pool = pool(&store, setup.deliverer(TOKEN));
    let delivery = deliver(store.as_ref(), &run, "slack:@U0ANA").await;
    settled(store.as_ref(), &delivery, DeliveryStatus::Sent).await;
    let messages = setup.slack.messages();
    assert!(messages.len() >= 2, "split: {}", messages.len());
    let mut all = String::new();
    for (part, message) in messages.iter().enumerate() {
        assert_eq!(message["channel"], "DU0ANA");
        assert_eq!(message["metadata"]["event_payload"]["part"], json!(part));
        all.push_str(message["text"].as_str().unwrap());
    }
    for i in [0, 199, 399] {
        assert!(all.contains(&format!("task number {i} with")), "task {i} is in a message");
    }
    assert!(setup.slack.violations().is_empty(), "{:?}", setup.slack.violations());
    pool.shutdown().await;
}

async fn permanent_refusals_are_dead_at_once_with_the_reason(store: Arc<dyn Store>) {
    let setup = Setup::start(true).await;
    let run = finished_run(store.as_ref(), PLAN).await;
    let pool = pool(&store, setup.deliverer("xoxb-wrong-token-000000"));
    let unknown = deliver(store.as_ref(), &run, "slack:#plans").await;
    let dead = settled(store.as_ref(), &unknown, DeliveryStatus::Dead).await;
    assert_eq!(dead.attempts, 1);
    assert_eq!(dead.error.as_deref(), Some("slack chat.postMessage: invalid_auth"));
    // A URL from the environment that leads nowhere: the reason never shows it.
    let hook = deliver(store.as_ref(), &run, "slack-webhook:$DEAD_HOOK").await;
    let failing = settled(store.as_ref(), &hook, DeliveryStatus::Retrying).await;
    assert!(!failing.error.as_deref().unwrap().contains("secret-path"), "{:?}", failing.error);
    let missing = deliver(store.as_ref(), &run, "webhook:$NOT_SET").await;
    let dead = settled(store.as_ref(), &missing, DeliveryStatus::Dead).await;
    assert_eq!(dead.error.as_deref(), Some("the environment variable NOT_SET is not set"));
    pool.shutdown().await;
}

async fn an_attempt_in_doubt_looks_in_slack_before_posting(store: Arc<dyn Store>) {
    let setup = Setup::start(true).await;
    let run = finished_run(store.as_ref(), PLAN).await;
    let deliverer = setup.deliverer(TOKEN);
    // Before the pool starts: an attempt began and posted, then the process
    // died before recording it (`sending`, with the message in Slack).
    let delivery = deliver(store.as_ref(), &run, "slack:#plans").await;
    store.begin_delivery_attempt(delivery.id).await.unwrap();
    let content = Content::of_run(&run, format!("run {}", run.id), "", None);
    let destination = Destination::parse("d", "slack:#plans").unwrap();
    deliverer.send(&destination, &content, &delivery.idempotency_key, delivery.id, false).await.unwrap();
    assert_eq!(setup.slack.messages().len(), 1);
    let pool = pool(&store, deliverer);
    let sent = settled(store.as_ref(), &delivery, DeliveryStatus::Sent).await;
    assert_eq!(sent.attempts, 2);
    assert_eq!(setup.slack.messages().len(), 1, "found in the channel, not posted again");
    pool.shutdown().await;
}

async fn webhooks_are_signed_and_a_repeat_is_dropped_by_the_receiver(store: Arc<dyn Store>) {
    let setup = Setup::start(true).await;
    setup.receiver.push_status(503);
    let run = finished_run(store.as_ref(), PLAN).await;
    let deliverer = setup.deliverer(TOKEN);
    let pool = pool(&store, deliverer.clone());
    let delivery = deliver(store.as_ref(), &run, "webhook:$HOOK_URL").await;
    let sent = settled(store.as_ref(), &delivery, DeliveryStatus::Sent).await;
    assert_eq!(sent.attempts, 2, "the 503 was retried");
    let accepted = setup.receiver.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["text"], PLAN);
    assert_eq!(accepted[0]["idempotency_key"], json!(sent.idempotency_key));
    assert!(setup.receiver.refused().is_empty(), "{:?}", setup.receiver.refused());
    // What an attempt in doubt does for a webhook: send again, same key.
    let content = Content::of_run(&run, "again".into(), "", None);
    let destination = Destination::parse("d", "webhook:$HOOK_URL").unwrap();
    deliverer.send(&destination, &content, &sent.idempotency_key, sent.id, true).await.unwrap();
    assert_eq!((setup.receiver.accepted().len(), setup.receiver.repeats()), (1, 1));
    pool.shutdown().await;
}

async fn smtp_down_then_up_sends_one_mail(store: Arc<dyn Store>) {
    let mut setup = Setup::start(false).await;
    let run = finished_run(store.as_ref(), PLAN).await;
    let pool = pool(&store, setup.deliverer(TOKEN));
    let delivery = deliver(store.as_ref(), &run, "mailto:ana@example.com").await;
    eventually("an attempt failed while the server is down", || async {
        let now = store.get_delivery(USER, delivery.id).await.unwrap();
        now.attempts >= 1 && now.error.as_deref().is_some_and(|error| error.starts_with("smtp 127.0.0.1"))
    })
    .await;
    setup.smtp.up().await.unwrap();
    let sent = settled(store.as_ref(), &delivery, DeliveryStatus::Sent).await;
    assert!(sent.response_excerpt.as_deref().unwrap().starts_with("250"), "{:?}", sent.response_excerpt);
    let mails = setup.smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        (mails[0].from.as_str(), mails[0].to.clone()),
        ("steward@example.com", vec!["ana@example.com".to_string()])
    );
    let data = &mails[0].data;
    assert!(data.contains("Subject: run"), "{data}");
    assert!(data.contains("multipart/alternative") && data.contains("text/plain") && data.contains("text/html"));
    assert!(data.contains("<h2>Monday plan</h2>"), "{data}");
    pool.shutdown().await;
}

async fn incoming_webhooks_and_files_get_the_output(store: Arc<dyn Store>) {
    let setup = Setup::start(true).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("plan.md");
    let run = finished_run(store.as_ref(), PLAN).await;
    let pool = pool(&store, setup.deliverer(TOKEN));
    let hook = deliver(store.as_ref(), &run, &format!("slack-webhook:{}", setup.slack.webhook_url())).await;
    let file = deliver(store.as_ref(), &run, &format!("file:{}", path.display())).await;
    settled(store.as_ref(), &hook, DeliveryStatus::Sent).await;
    settled(store.as_ref(), &file, DeliveryStatus::Sent).await;
    assert_eq!(setup.slack.webhook_messages().len(), 1);
    assert_eq!(setup.slack.webhook_messages()[0]["blocks"][0]["type"], "header");
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with(PLAN), "{written}");
    assert!(written.contains("http://steward.test/runs/"), "{written}");
    let listed = store.get_delivery(USER, hook.id).await.unwrap();
    assert_eq!(
        listed.shown_destination(),
        format!("slack-webhook:http://{}/…", setup.slack.webhook_url().split('/').nth(2).unwrap())
    );
    pool.shutdown().await;
}

pool_tests!(
    slack_rate_limited_then_fine_posts_one_message,
    a_dm_is_opened_and_long_output_is_split_in_order,
    permanent_refusals_are_dead_at_once_with_the_reason,
    an_attempt_in_doubt_looks_in_slack_before_posting,
    webhooks_are_signed_and_a_repeat_is_dropped_by_the_receiver,
    smtp_down_then_up_sends_one_mail,
    incoming_webhooks_and_files_get_the_output,
);
