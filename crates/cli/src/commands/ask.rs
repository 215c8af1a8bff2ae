//! `steward ask`: one prompt to a model. Streams the reply to the terminal,
//! then prints tokens and cost; `--schema` asks for JSON validated against a
//! schema file; `--json` prints one machine-readable object instead.

use crate::output::say;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use futures::StreamExt;
use serde_json::{Value, json};
use steward_llm::{
    ChatModel, ChatRequest, ChatResponse, Finish, JsonSchemaSpec, StopReason, StreamEvent, StructuredOptions, Usage,
    complete_json,
};

use crate::commands::llm_setup::{format_cost, load_registry, user_facing};
use crate::options::GlobalOptions;

#[derive(Debug, clap::Args)]
pub struct AskArgs {
    /// The prompt; `-` reads it from standard input.
    pub prompt: String,

    /// Model as provider/model (default: llm.default_model, else the first provider with a key).
    #[arg(long, short)]
    pub model: Option<String>,

    /// System prompt.
    #[arg(long)]
    pub system: Option<String>,

    /// A JSON Schema file: the reply is JSON validated against it.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,

    /// With --schema: how many times to re-ask when the reply does not validate.
    #[arg(long, default_value_t = 2)]
    pub max_reasks: u32,

    /// Longest reply, in tokens.
    #[arg(long, default_value_t = steward_llm::message::DEFAULT_MAX_TOKENS)]
    pub max_tokens: u32,

    #[arg(long)]
    pub temperature: Option<f64>,

    /// Steward's data directory, where config.toml is read from (default: STEWARD_HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
}

pub async fn run(args: AskArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let (_, registry) = load_registry(args.home.clone(), global)?;
    let model = match &args.model {
        Some(name) => registry.chat_model(name),
        None => registry.default_chat_model(),
    }
    .map_err(user_facing)?;
    let mut request = ChatRequest::from_user_text(read_prompt(&args.prompt)?).with_max_tokens(args.max_tokens);
    if let Some(system) = &args.system {
        request = request.with_system(system.clone());
    }
    if let Some(temperature) = args.temperature {
        request = request.with_temperature(temperature);
    }
    match &args.schema {
        Some(path) => structured(model, request, path, args.max_reasks, global.json).await,
        None if global.json => {
            let response = model.complete(request).await?;
            crate::output::print_json(&response_json(&response, None, &response.usage, response.cost_usd));
            Ok(())
        }
        None => streamed(model, request).await,
    }
}

fn read_prompt(prompt: &str) -> anyhow::Result<String> {
    if prompt != "-" {
        return Ok(prompt.to_owned());
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("cannot read the prompt from standard input")?;
    Ok(text)
}

/// Prints text as it arrives on stdout; the summary goes to stderr so that
/// `steward ask … > answer.txt` keeps only the answer.
async fn streamed(model: Arc<dyn ChatModel>, request: ChatRequest) -> anyhow::Result<()> {
    let mut stream = model.stream(request);
    let mut ended_with_newline = true;
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                if !ended_with_newline {
                    say!("");
                }
                return Err(error.into());
            }
        };
        match event {
            StreamEvent::TextDelta { text } => {
                crate::output::write_text(&text);
                ended_with_newline = text.ends_with('\n');
            }
            StreamEvent::Finished(finish) => {
                if !ended_with_newline {
                    say!("");
                }
                eprintln!("{}", summary_line(&finish));
                return Ok(());
            }
            _ => {}
        }
    }
    Ok(())
}

/// `model · tokens: … · cost: … · first token … · elapsed`, for stderr.
fn summary_line(finish: &Finish) -> String {
    let usage = &finish.usage;
    let model = &finish.model;
    let mut line = format!(
        "{model} · tokens: {} in, {} out, {} cached (read), {} cached (write) · cost: {}",
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        format_cost(finish.cost_usd)
    );
    if let Some(first) = finish.time_to_first_token {
        line.push_str(&format!(" · first token {} ms", first.as_millis()));
    }
    line.push_str(&format!(" · {:.1} s", finish.elapsed.as_secs_f64()));
    if finish.stop_reason != StopReason::EndTurn {
        line.push_str(&format!(" · stopped: {}", finish.stop_reason.as_str()));
    }
    line
}

fn usage_json(usage: &Usage) -> Value {
    json!({
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
    })
}

fn response_json(
    response: &ChatResponse,
    structured: Option<(&Value, u32)>,
    usage: &Usage,
    cost_usd: Option<f64>,
) -> Value {
    let mut object = json!({
        "text": response.text(),
        "model": response.model.to_string(),
        "usage": usage_json(usage),
        "cost_usd": cost_usd,
        "stop_reason": response.stop_reason.as_str(),
        "time_to_first_token_ms": response.time_to_first_token.map(|first| first.as_millis() as u64),
        "elapsed_ms": response.elapsed.as_millis() as u64,
    });
    if let Some((value, attempts)) = structured {
        object["json"] = value.clone();
        object["attempts"] = json!(attempts);
    }
    object
}

async fn structured(
    model: Arc<dyn ChatModel>,
    request: ChatRequest,
    schema_path: &std::path::Path,
    max_reasks: u32,
    as_json: bool,
) -> anyhow::Result<()> {
    let schema = JsonSchemaSpec::from_file(schema_path).map_err(|error| anyhow::anyhow!("{}", error.message()))?;
    let result = complete_json(model.as_ref(), request, &schema, StructuredOptions { max_reasks }).await?;
    if as_json {
        let object = response_json(
            &result.response,
            Some((&result.value, result.attempts)),
            &result.total_usage,
            result.total_cost_usd,
        );
        crate::output::print_json(&object);
        return Ok(());
    }
    say!("{}", serde_json::to_string_pretty(&result.value)?);
    let finish = Finish {
        stop_reason: result.response.stop_reason.clone(),
        usage: result.total_usage,
        cost_usd: result.total_cost_usd,
        model: result.response.model.clone(),
        time_to_first_token: result.response.time_to_first_token,
        elapsed: result.response.elapsed,
    };
    let attempts = if result.attempts == 1 { String::new() } else { format!(" · {} attempts", result.attempts) };
    eprintln!("{}{attempts}", summary_line(&finish));
    Ok(())
}
