//! The fake holds ten thousand concurrent requests and answers them all: the
//! agent-runtime benchmark runs that many conversations against it.
//!
//! The fake runs as its own process (the real binary) because one process
//! holding both ends of 10,000 connections would need more file descriptors
//! than this machine allows per process.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::scripting::openai_request;

const CONCURRENT_REQUESTS: usize = 10_000;

struct FakeProcess(Child);

impl Drop for FakeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_fake_binary() -> (FakeProcess, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward-fake-llm"))
        .args(["--port", "0", "--no-recording"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    let first_line = first_line.trim_end();
    let base_url = first_line.rsplit(' ').next().unwrap().to_owned();
    (FakeProcess(child), base_url)
}

/// The assistant text of a whole or streamed chat completion.
fn reply_text(body: &str) -> String {
    if let Ok(whole) = serde_json::from_str::<Value>(body) {
        return whole["choices"][0]["message"]["content"].as_str().unwrap().to_owned();
    }
    body.split("\n\n")
        .filter_map(|frame| frame.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| {
            serde_json::from_str::<Value>(data).unwrap()["choices"][0]["delta"]["content"].as_str().map(str::to_owned)
        })
        .collect()
}

async fn stats(client: &reqwest::Client, base_url: &str) -> Value {
    client.get(format!("{base_url}/_fake/stats")).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_requests_are_all_held_and_answered() {
    let (_process, base_url) = start_fake_binary();
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    assert_eq!(client.post(format!("{base_url}/_fake/pause")).send().await.unwrap().status(), 204);

    let tasks: Vec<_> = (0..CONCURRENT_REQUESTS)
        .map(|index| {
            let client = client.clone();
            let url = format!("{base_url}/v1/chat/completions");
            tokio::spawn(async move {
                let response =
                    client.post(url).json(&openai_request(&format!("request {index}"), index % 2 == 0)).send().await?;
                let status = response.status().as_u16();
                let body = response.text().await?;
                Ok::<_, reqwest::Error>((status, body))
            })
        })
        .collect();

    // Every request is inside the fake at the same time before any is answered.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let in_flight = stats(&client, &base_url).await["in_flight"].as_u64().unwrap();
        if in_flight == CONCURRENT_REQUESTS as u64 {
            break;
        }
        assert!(Instant::now() < deadline, "only {in_flight} requests in flight");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client.post(format!("{base_url}/_fake/resume")).send().await.unwrap();

    for (index, task) in tasks.into_iter().enumerate() {
        let (status, body) = task.await.unwrap().unwrap();
        assert_eq!(status, 200, "request {index}: {body}");
        let text = reply_text(&body);
        assert!(
            text.ends_with(&format!("You said: request {index}")),
            "request {index} got someone else's reply: {text}"
        );
    }
    let final_stats = stats(&client, &base_url).await;
    assert_eq!(final_stats["peak_in_flight"], CONCURRENT_REQUESTS as u64, "{final_stats}");
}
