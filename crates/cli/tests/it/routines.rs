//! Journey J1 through the binary: a morning plan built from a realistic
//! .ics (a daily standup with an exception moved and a day cancelled, an
//! event in another zone, events on other days), open actions, a
//! priorities file and yesterday's evening summary, delivered to a Slack
//! DM (fake Slack API), a webhook receiver that verifies the HMAC, and an
//! SMTP sink, fired by its schedule; a routine that follows it fires once it
//! completes. The prompt the fake provider sees holds today's events in the
//! user's zone and nothing from other days.

use chrono::{Days, NaiveDate, TimeZone};
use chrono_tz::{America::New_York, Europe::Paris};
use serde_json::Value;
use steward_domain::{Clock, SystemClock};
use steward_fake_llm::{FakeLlm, Reply};
use steward_test_support::fakes::slack::FakeSlack;
use steward_test_support::fakes::smtp::SmtpSink;
use steward_test_support::fakes::webhook::WebhookReceiver;

use crate::support::{ServerOptions, eventually, steward};

const KEY: &str = "sk-ant-routines-0123456789abcdef";
const TOKEN: &str = "xoxb-routine-test-0123456789";
const SIGNING_KEY: &str = "whsec-routine-test-key";
const SUMMARY: &str = "Yesterday we shipped the pricing page; the billing bug is still open.";
const UPDATE: &str = "Stakeholder update: the plan is set.";
const PLAN: &str = "# Plan for today\n\n- 09:30 Standup\n- Review the launch post before the investor call";

fn day(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// A calendar around `today`: a daily standup (Paris) from a week ago with
/// yesterday cancelled and today's moved to 09:30, an investor call in New
/// York's zone today, a dentist tomorrow, a retro yesterday, an all-day
/// offsite the day after tomorrow.
fn calendar(today: NaiveDate) -> String {
    let offset = |days: i64| {
        if days >= 0 {
            today.checked_add_days(Days::new(days.unsigned_abs())).unwrap()
        } else {
            today.checked_sub_days(Days::new(days.unsigned_abs())).unwrap()
        }
    };
    let (week_ago, yesterday, tomorrow, later) = (offset(-7), offset(-1), offset(1), offset(2));
    let today = day(today);
    [
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Calendar//EN\r\n".to_string(),
        format!(
            "BEGIN:VEVENT\r\nUID:standup@example.com\r\nSUMMARY:Standup\r\nDTSTART;TZID=Europe/Paris:{}T090000\r\n\
             DTEND;TZID=Europe/Paris:{}T091500\r\nRRULE:FREQ=DAILY;COUNT=30\r\n\
             EXDATE;TZID=Europe/Paris:{}T090000\r\nEND:VEVENT\r\n",
            day(week_ago),
            day(week_ago),
            day(yesterday)
        ),
        format!(
            "BEGIN:VEVENT\r\nUID:standup@example.com\r\nRECURRENCE-ID;TZID=Europe/Paris:{today}T090000\r\n\
             SUMMARY:Standup (moved)\r\nDTSTART;TZID=Europe/Paris:{today}T093000\r\n\
             DTEND;TZID=Europe/Paris:{today}T094500\r\nEND:VEVENT\r\n"
        ),
        format!(
            "BEGIN:VEVENT\r\nUID:investor@example.com\r\nSUMMARY:Investor call\r\nLOCATION:Zoom\r\n\
             DTSTART;TZID=America/New_York:{today}T080000\r\nDTEND;TZID=America/New_York:{today}T090000\r\n\
             END:VEVENT\r\n"
        ),
        format!(
            "BEGIN:VEVENT\r\nUID:dentist@example.com\r\nSUMMARY:Dentist\r\nDTSTART;TZID=Europe/Paris:{}T110000\r\n\
             DTEND;TZID=Europe/Paris:{}T120000\r\nEND:VEVENT\r\n",
            day(tomorrow),
            day(tomorrow)
        ),
        format!(
            "BEGIN:VEVENT\r\nUID:retro@example.com\r\nSUMMARY:Sprint retro\r\nDTSTART:{}T150000Z\r\n\
             DTEND:{}T160000Z\r\nEND:VEVENT\r\n",
            day(yesterday),
            day(yesterday)
        ),
        format!(
            "BEGIN:VEVENT\r\nUID:offsite@example.com\r\nSUMMARY:Company offsite\r\nDTSTART;VALUE=DATE:{}\r\n\
             DTEND;VALUE=DATE:{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            day(later),
            day(offset(3))
        ),
    ]
    .concat()
}

/// The investor call's 08:00 in New York, as Paris reads it today.
fn investor_call_in_paris(today: NaiveDate) -> String {
    let start = New_York.from_local_datetime(&today.and_hms_opt(8, 0, 0).unwrap()).unwrap();
    start.with_timezone(&Paris).format("%H:%M").to_string()
}

fn wait_for_run(url: &str, run: i64) -> Value {
    let mut finished = Value::Null;
    eventually("the run finished", || {
        finished = steward(url, &["runs", "get", &run.to_string(), "--json"]).json();
        finished["status"] == "finished"
    });
    finished
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_a_morning_plan_reaches_slack_a_webhook_and_email_with_todays_events_only() {
    let fake = FakeLlm::start().await.unwrap();
    let slack = FakeSlack::start(TOKEN, &[]).await.unwrap();
    let receiver = WebhookReceiver::start(SIGNING_KEY).await.unwrap();
    let smtp = SmtpSink::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let config = format!(
        "[deliveries]\nslack_api_base = \"{}\"\nallow = [\"127.0.0.1\"]\ntimeout_secs = 5\n\n\
         [deliveries.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"Steward <steward@example.com>\"\n",
        slack.api_base(),
        smtp.port()
    );
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    // The server reads the system clock; so does the calendar written for it.
    let today = SystemClock.now().with_timezone(&Paris).date_naive();
    let ics = files.path().join("work.ics");
    std::fs::write(&ics, calendar(today)).unwrap();
    let priorities = files.path().join("priorities.md");
    std::fs::write(&priorities, "# Priorities\n\n1. Launch the new pricing\n2. Hire a designer\n").unwrap();
    let server = ServerOptions::default()
        .home(home.path())
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("STEWARD_WEBHOOK_SECRET", SIGNING_KEY)
        .env("PLAN_HOOK", receiver.url())
        .start();
    let url = server.url().to_string();
    steward(&url, &["agent", "create", "Planner", "--goal", "Plan my days"]).ok();
    steward(&url, &["action", "create", "Review the launch post", "--agent", "Planner"]).ok();

    // Yesterday's evening summary: a routine whose completed output the plan reads.
    let evening = ["routine", "add", "evening-summary", "--template", "evening-summary", "--agent", "Planner"];
    steward(&url, &[&evening[..], &["--tz", "Europe/Paris", "--manual", "--json"]].concat()).ok();
    fake.push(Reply::text(SUMMARY));
    let fired = steward(&url, &["routine", "run", "evening-summary", "--json"]).json();
    wait_for_run(&url, fired["fire"]["run_id"].as_i64().unwrap());

    let (ics, priorities) = (ics.to_str().unwrap(), priorities.to_str().unwrap());
    let morning = [
        "routine",
        "add",
        "morning",
        "--template",
        "morning-plan",
        "--agent",
        "Planner",
        "--tz",
        "Europe/Paris",
        "--calendar",
        ics,
        "--priorities",
        priorities,
        "--deliver",
        "slack:@U0ANA",
        "--deliver",
        "webhook:$PLAN_HOOK",
        "--deliver",
        "mailto:ana@example.com",
        "--json",
    ];
    let added = steward(&url, &morning).json();
    assert_eq!(added["schedules"][0], "weekdays at 08:00", "{added}");

    let dry = steward(&url, &["routine", "run", "morning", "--dry-run", "--json"]).json();
    assert_eq!(dry["preview"]["missing"], serde_json::json!([]), "{dry}");
    assert!(slack.messages().is_empty() && receiver.accepted().is_empty() && smtp.mails().is_empty());

    // A routine that follows the morning plan's completion.
    let follow = ["routine", "add", "stakeholders", "--template", "stakeholder", "--agent", "Planner", "--manual"];
    steward(&url, &[&follow[..], &["--after", "morning", "--json"]].concat()).ok();

    // The schedule the routine was added with fires it (the scheduler's `routine.run` job).
    fake.push(Reply::text(PLAN));
    fake.push(Reply::text(UPDATE));
    steward(&url, &["schedule", "run-now", "morning", "--json"]).ok();
    let mut fired = Value::Null;
    eventually("the schedule fired the routine", || {
        fired = steward(&url, &["routine", "show", "morning", "--json"]).json()["fires"][0].clone();
        fired["run_id"].is_i64()
    });
    assert_eq!(fired["trigger"], "schedule", "{fired}");
    let run = wait_for_run(&url, fired["run_id"].as_i64().unwrap());
    assert_eq!(run["outcome"], "completed", "{run}");

    let prompt = fake
        .requests()
        .iter()
        .filter_map(|request| request.last_user_text())
        .find(|text| text.starts_with("Plan my day"))
        .unwrap();
    assert_eq!(dry["preview"]["prompt"].as_str().unwrap(), prompt, "the dry run showed the prompt that was sent");
    assert!(prompt.contains(&format!("{} (Europe/Paris)", today.format("%Y-%m-%d"))), "{prompt}");
    assert!(prompt.contains("- 09:30–09:45 Standup (moved)"), "the exception applies: {prompt}");
    assert!(!prompt.contains("09:00–09:15"), "today's standup was moved: {prompt}");
    let call = investor_call_in_paris(today);
    assert!(prompt.contains(&format!("- {call}–")) && prompt.contains("Investor call (Zoom)"), "{prompt}");
    for elsewhere in ["Dentist", "Sprint retro", "Company offsite"] {
        assert!(!prompt.contains(elsewhere), "{elsewhere} is not today: {prompt}");
    }
    assert!(prompt.contains("Review the launch post") && prompt.contains("1. Launch the new pricing"), "{prompt}");
    assert!(prompt.contains(SUMMARY), "yesterday's summary: {prompt}");
    assert!(!prompt.contains("MISSING"), "{prompt}");

    eventually("the three deliveries were sent", || {
        let shown = steward(&url, &["routine", "show", "morning", "--json"]).json();
        let deliveries = shown["fires"][0]["deliveries"].as_array().cloned().unwrap_or_default();
        deliveries.len() == 3 && deliveries.iter().all(|delivery| delivery["status"] == "sent")
    });
    assert_eq!(slack.messages().len(), 1, "{:?}", slack.messages());
    assert_eq!(slack.messages()[0]["channel"], "DU0ANA", "a DM opened with conversations.open");
    assert_eq!(slack.messages()[0]["blocks"][0]["text"]["text"], "Plan for today");
    assert!(slack.violations().is_empty(), "{:?}", slack.violations());
    assert_eq!(receiver.accepted().len(), 1, "refused: {:?}", receiver.refused());
    assert_eq!(
        (receiver.accepted()[0]["text"].as_str(), receiver.accepted()[0]["routine"].as_str()),
        (Some(PLAN), Some("morning"))
    );
    assert_eq!(smtp.mails().len(), 1);
    assert!(smtp.mails()[0].data.contains("Subject: morning"), "{}", smtp.mails()[0].data);

    // The follower fired once the morning plan's run completed, and read its output.
    let mut follower = Value::Null;
    eventually("the follower fired", || {
        follower = steward(&url, &["routine", "show", "stakeholders", "--json"]).json()["fires"][0].clone();
        follower["run_id"].is_i64()
    });
    assert_eq!(follower["trigger"], "routine", "{follower}");
    assert_eq!(follower["inputs"]["input"]["output"], PLAN, "{follower}");
    assert_eq!(wait_for_run(&url, follower["run_id"].as_i64().unwrap())["outcome"], "completed");

    // A replay with --deliver sends nothing twice.
    fake.push(Reply::text(PLAN));
    let fire = fired["id"].as_i64().unwrap().to_string();
    let replayed = steward(&url, &["routine", "replay", &fire, "--deliver", "--json"]).json();
    assert_eq!(replayed["inputs"], fired["inputs"], "the stored inputs");
    wait_for_run(&url, replayed["run_id"].as_i64().unwrap());
    assert_eq!((slack.messages().len(), receiver.accepted().len(), smtp.mails().len()), (1, 1, 1));
}
