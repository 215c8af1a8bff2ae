//! Deliveries through the binary: `steward run … --deliver` to a fake
//! Slack, a webhook receiver and an SMTP sink; the server killed with
//! `kill -9` after Slack received the post and before the server recorded
//! it, then started again: still one Slack message (the attempt in doubt
//! finds it in the channel by its idempotency key), one webhook, one mail.

use serde_json::Value;
use steward_fake_llm::{FakeLlm, Reply};
use steward_test_support::fakes::slack::{FakeSlack, SlackFault};
use steward_test_support::fakes::smtp::SmtpSink;
use steward_test_support::fakes::webhook::WebhookReceiver;

use crate::support::{ServerOptions, eventually, steward};

const KEY: &str = "sk-ant-deliveries-0123456789abcdef";
const TOKEN: &str = "xoxb-delivery-test-0123456789";
const SIGNING_KEY: &str = "whsec-delivery-test-key";
const PLAN: &str = "# Plan for today\n\n- 09:00 Standup\n- 14:00 Review the launch post";

fn deliveries(url: &str) -> Vec<Value> {
    steward(url, &["delivery", "list", "--json"]).json()["deliveries"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_a_run_delivers_once_to_slack_a_webhook_and_email_across_a_kill_9() {
    let fake = FakeLlm::start().await.unwrap();
    let slack = FakeSlack::start(TOKEN, &[("plans", "C0PLANS")]).await.unwrap();
    let receiver = WebhookReceiver::start(SIGNING_KEY).await.unwrap();
    let smtp = SmtpSink::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = format!(
        "[deliveries]\nslack_api_base = \"{}\"\nallow = [\"127.0.0.1\"]\ntimeout_secs = 5\n\n\
         [deliveries.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"Steward <steward@example.com>\"\n",
        slack.api_base(),
        smtp.port()
    );
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    let mut server = ServerOptions::default()
        .home(home.path())
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("STEWARD_WEBHOOK_SECRET", SIGNING_KEY)
        .env("PLAN_HOOK", receiver.url())
        .start();
    let url = server.url().to_string();
    steward(&url, &["agent", "create", "Planner", "--goal", "Plan my days"]).ok();

    // Slack records the post and never answers: the server dies in between.
    slack.push_fault(SlackFault::RecordAndHang);
    fake.push(Reply::text(PLAN));
    let bad = steward(&url, &["run", "Planner", "Plan", "--deliver", "sms:+33600000000", "--json"]);
    bad.failed();
    assert!(bad.stdout.contains("deliver[0]") && bad.stdout.contains("unknown destination kind"), "{}", bad.stdout);
    let run = steward(
        &url,
        &[
            "run",
            "Planner",
            "Plan my day",
            "--wait",
            "--json",
            "--deliver",
            "slack:#plans",
            "--deliver",
            "webhook:$PLAN_HOOK",
            "--deliver",
            "mailto:ana@example.com",
        ],
    )
    .json();
    assert_eq!(run["outcome"], "completed", "{run}");
    eventually("Slack received the post", || slack.messages().len() == 1);
    eventually("the webhook and the mail were sent", || {
        let listed = deliveries(&url);
        listed.iter().filter(|d| d["status"] == "sent").count() == 2
    });
    assert_eq!(deliveries(&url).iter().find(|d| d["kind"] == "slack").unwrap()["status"], "sending");
    server.kill_hard();
    server.restart();
    let url = server.url().to_string();

    eventually("the Slack delivery is recorded as sent", || {
        deliveries(&url).iter().find(|d| d["kind"] == "slack").is_some_and(|d| d["status"] == "sent")
    });
    let listed = deliveries(&url);
    let to_slack = listed.iter().find(|d| d["kind"] == "slack").unwrap();
    assert_eq!(to_slack["attempts"], 2, "{to_slack}");
    assert_eq!(slack.messages().len(), 1, "one message in the channel: {:?}", slack.messages());
    assert_eq!(slack.messages()[0]["blocks"][0]["text"]["text"], "Plan for today");
    assert!(slack.violations().is_empty(), "{:?}", slack.violations());
    assert_eq!(receiver.accepted().len(), 1);
    assert_eq!(receiver.accepted()[0]["text"], PLAN);
    assert!(receiver.refused().is_empty(), "{:?}", receiver.refused());
    assert_eq!(smtp.mails().len(), 1);
    assert!(smtp.mails()[0].data.contains("Subject: run"), "{}", smtp.mails()[0].data);
    let webhook = listed.iter().find(|d| d["kind"] == "webhook").unwrap();
    assert_eq!(webhook["destination"], "webhook:$PLAN_HOOK", "the URL itself is never stored");
    assert!(!server.log().contains(TOKEN), "the token is not logged");
}
