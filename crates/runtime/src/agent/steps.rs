//! What the runtime stores in each step of a run, and how stored steps turn
//! back into the model conversation: a resumed run replays its steps from the
//! store, never from the model.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::{RunId, RunStep, StepKind};
use steward_llm::{ContentPart, Message, Role};

/// Content of the first step: what the run works on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstructionContent {
    pub text: String,
    /// What the run started without, in words (an MCP server that did not
    /// start), for the trace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Content of a model call: the reply's parts, as the conversation needs them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCallContent {
    pub content: Vec<ContentPart>,
    /// Tool calls the reply asked for, in the order of `content`.
    pub tool_calls: Vec<RequestedCall>,
}

/// A tool call the model asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestedCall {
    pub id: String,
    /// As the model sent it (the wire name).
    pub wire_name: String,
    pub input: Value,
    /// The raw argument text when it was not valid JSON.
    pub malformed_input: Option<String>,
}

/// Content of a tool call: its result (or error) for the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCallContent {
    /// The model step that asked for it, and its index there.
    pub model_step: u32,
    pub call_index: u32,
    pub call_id: String,
    /// The tool's dotted name, or the wire name when no such tool exists.
    pub tool: String,
    pub arguments: Value,
    pub result: String,
    pub is_error: bool,
}

/// Content of a summary: the text that stands for every step up to and
/// including `covers_through` (except the instruction, which is kept).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryContent {
    pub text: String,
    pub covers_through: u32,
}

/// What the stored steps say about where the run is.
#[derive(Clone, Debug, PartialEq)]
pub enum NextMove {
    /// Call the model with the conversation so far.
    CallModel,
    /// Run these tool calls of model step `model_step` (those without a
    /// stored result), then call the model.
    RunTools { model_step: u32, calls: Vec<(u32, RequestedCall)> },
    /// The last model call answered without tools: the run is done.
    Finish { answer: String },
}

/// The conversation rebuilt from a run's steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    pub messages: Vec<Message>,
    pub next: NextMove,
    /// The sequence the next stored step gets.
    pub next_sequence: u32,
    /// The most recent `skills.open` call still in force, if any (its input).
    pub open_skill: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("the run has no steps")]
    Empty,
    #[error("step {sequence}: stored content does not parse: {message}")]
    Corrupt { sequence: u32, message: String },
    #[error("step {sequence} should be the instruction but is a {kind}")]
    NoInstruction { sequence: u32, kind: StepKind },
}

fn parse<T: for<'de> Deserialize<'de>>(step: &RunStep) -> Result<T, ReplayError> {
    serde_json::from_value(step.content.clone())
        .map_err(|error| ReplayError::Corrupt { sequence: step.sequence, message: error.to_string() })
}

/// A message the guardian put in the run's conversation, before the model
/// call stored as step `before_step`.
#[derive(Clone, Debug, PartialEq)]
pub struct Guidance {
    pub before_step: u32,
    pub message: String,
}

/// How a guidance message reads in the conversation.
pub fn guidance_text(message: &str) -> String {
    format!("[Note from the supervisor watching this run] {message}")
}

/// Rebuilds the conversation from steps in sequence order.
pub fn replay(steps: &[RunStep]) -> Result<Replay, ReplayError> {
    replay_with_guidance(steps, &[])
}

/// Rebuilds the conversation from steps in sequence order, with each
/// guidance message as a user turn just before the model call it was first
/// sent with (so every later call sees it at the same place).
pub fn replay_with_guidance(steps: &[RunStep], guidance: &[Guidance]) -> Result<Replay, ReplayError> {
    let mut guidance: Vec<&Guidance> = guidance.iter().collect();
    guidance.sort_by_key(|note| note.before_step);
    let mut guidance = guidance.into_iter().peekable();
    let first = steps.first().ok_or(ReplayError::Empty)?;
    if first.kind != StepKind::Instruction {
        return Err(ReplayError::NoInstruction { sequence: first.sequence, kind: first.kind });
    }
    let instruction: InstructionContent = parse(first)?;
    // The latest summary replaces everything it covers.
    let mut summary: Option<SummaryContent> = None;
    for step in steps.iter().filter(|step| step.kind == StepKind::Summary) {
        summary = Some(parse(step)?);
    }
    let covered_through = summary.as_ref().map_or(0, |summary| summary.covers_through);
    let mut opening = instruction.text.clone();
    if let Some(summary) = &summary {
        opening.push_str("\n\n---\nSummary of the work so far (earlier steps were condensed to save context):\n");
        opening.push_str(&summary.text);
    }
    let mut messages = vec![Message::user(opening)];

    // Model steps after the summary, with the tool results that answer them.
    let mut turns: Vec<(u32, ModelCallContent, Vec<ToolCallContent>)> = Vec::new();
    let mut open_skill = None;
    for step in steps.iter().filter(|step| step.sequence > covered_through) {
        match step.kind {
            // A call that never got its reply is counted, not replayed.
            StepKind::ModelCall if step.is_interrupted() => {}
            StepKind::ModelCall => turns.push((step.sequence, parse(step)?, Vec::new())),
            StepKind::ToolCall => {
                let result: ToolCallContent = parse(step)?;
                if let Some(turn) = turns.iter_mut().find(|(sequence, _, _)| *sequence == result.model_step) {
                    if result.tool == "skills.open" && !result.is_error {
                        open_skill = result.arguments.get("name").and_then(Value::as_str).map(str::to_string);
                    }
                    turn.2.push(result);
                }
            }
            StepKind::Instruction | StepKind::Summary => {}
        }
    }
    let mut next = NextMove::CallModel;
    let turn_count = turns.len();
    for (position, (sequence, model, mut results)) in turns.into_iter().enumerate() {
        while let Some(note) = guidance.next_if(|note| note.before_step <= sequence) {
            messages.push(Message::user(guidance_text(&note.message)));
        }
        let reply = Message::new(Role::Assistant, model.content);
        // Only the newest turn decides what comes next.
        if position + 1 == turn_count {
            let asked_for_tools = !model.tool_calls.is_empty();
            let missing: Vec<(u32, RequestedCall)> = (0u32..)
                .zip(model.tool_calls)
                .filter(|(index, _)| !results.iter().any(|result| result.call_index == *index))
                .collect();
            next = if !missing.is_empty() {
                NextMove::RunTools { model_step: sequence, calls: missing }
            } else if asked_for_tools {
                NextMove::CallModel
            } else {
                NextMove::Finish { answer: reply.text() }
            };
        }
        messages.push(reply);
        if !results.is_empty() {
            results.sort_by_key(|result| result.call_index);
            let parts =
                results.iter().map(|result| ContentPart::tool_result(&result.call_id, &result.result, result.is_error));
            messages.push(Message::tool_results(parts.collect()));
        }
    }
    for note in guidance {
        messages.push(Message::user(guidance_text(&note.message)));
    }
    let next_sequence = steps.last().map_or(0, |step| step.sequence + 1);
    Ok(Replay { messages, next, next_sequence, open_skill })
}

/// Where a summary may end: after the last step of a completed turn (a
/// model call whose tool calls all have results), keeping the newest
/// `keep_turns` turns whole. `None` when there is nothing old enough.
pub fn summary_boundary(steps: &[RunStep], keep_turns: usize) -> Option<u32> {
    let model_steps: Vec<u32> = steps
        .iter()
        .filter(|step| step.kind == StepKind::ModelCall && !step.is_interrupted())
        .map(|step| step.sequence)
        .collect();
    if model_steps.len() <= keep_turns {
        return None;
    }
    // The first kept turn starts at this model step; summarise what precedes it.
    let first_kept = model_steps[model_steps.len() - keep_turns.max(1)];
    let boundary = first_kept.checked_sub(1)?;
    let already = steps
        .iter()
        .filter(|step| step.kind == StepKind::Summary)
        .filter_map(|step| step.content.get("covers_through").and_then(Value::as_u64))
        .max()
        .unwrap_or(0);
    (u64::from(boundary) > already && boundary > 0).then_some(boundary)
}

/// A step with the common fields filled.
pub(crate) fn new_step(
    run: RunId,
    sequence: u32,
    kind: StepKind,
    name: &str,
    content: Value,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> RunStep {
    RunStep {
        run_id: run,
        sequence,
        kind,
        name: name.to_string(),
        content,
        usage: None,
        cost_usd: None,
        time_to_first_token: None,
        stop_reason: None,
        error: None,
        started_at: started,
        finished_at: finished,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use steward_domain::RunId;

    use super::*;

    fn step(sequence: u32, kind: StepKind, content: Value) -> RunStep {
        let now = Utc.with_ymd_and_hms(2030, 3, 4, 12, 0, 0).unwrap();
        new_step(RunId(1), sequence, kind, "", content, now, now)
    }

    fn instruction() -> RunStep {
        step(0, StepKind::Instruction, json!({ "text": "Write a haiku." }))
    }

    fn model(sequence: u32, text: &str, calls: &[(&str, &str)]) -> RunStep {
        let tool_calls: Vec<Value> = calls
            .iter()
            .map(|(id, name)| json!({ "id": id, "wire_name": name, "input": {}, "malformed_input": null }))
            .collect();
        let mut content = vec![json!({ "type": "text", "text": text })];
        for (id, name) in calls {
            content.push(json!({ "type": "tool_use", "id": id, "name": name, "input": {} }));
        }
        step(sequence, StepKind::ModelCall, json!({ "content": content, "tool_calls": tool_calls }))
    }

    fn result(sequence: u32, model_step: u32, index: u32, id: &str) -> RunStep {
        step(
            sequence,
            StepKind::ToolCall,
            json!({ "model_step": model_step, "call_index": index, "call_id": id, "tool": "workspace.read",
                    "arguments": {}, "result": format!("result {index}"), "is_error": false }),
        )
    }

    #[test]
    fn a_fresh_run_calls_the_model() {
        let replay = replay(&[instruction()]).unwrap();
        assert_eq!(replay.next, NextMove::CallModel);
        assert_eq!(replay.messages, vec![Message::user("Write a haiku.")]);
        assert_eq!(replay.next_sequence, 1);
    }

    #[test]
    fn missing_tool_results_are_run_and_stored_ones_are_not() {
        // Model step 1 asked for two calls; only the second has a result.
        let steps = [
            instruction(),
            model(1, "Let me look.", &[("a", "workspace__read"), ("b", "workspace__read")]),
            result(2, 1, 1, "b"),
        ];
        let replay = replay(&steps).unwrap();
        match &replay.next {
            NextMove::RunTools { model_step, calls } => {
                assert_eq!(*model_step, 1);
                assert_eq!(
                    calls.iter().map(|(index, call)| (*index, call.id.as_str())).collect::<Vec<_>>(),
                    [(0, "a")]
                );
            }
            other => panic!("expected tools to run, got {other:?}"),
        }
    }

    #[test]
    fn results_stored_out_of_order_are_grouped_by_call() {
        let steps = [
            instruction(),
            model(1, "Reading both.", &[("a", "workspace__read"), ("b", "workspace__read")]),
            result(2, 1, 1, "b"),
            result(3, 1, 0, "a"),
        ];
        let replay = replay(&steps).unwrap();
        assert_eq!(replay.next, NextMove::CallModel);
        assert_eq!(replay.messages.len(), 3);
        let ids: Vec<&str> = replay.messages[2]
            .content
            .iter()
            .map(|part| match part {
                ContentPart::ToolResult { tool_use_id, .. } => tool_use_id.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn an_answer_without_tools_finishes() {
        let steps = [instruction(), model(1, "Autumn moonlight", &[])];
        assert_eq!(replay(&steps).unwrap().next, NextMove::Finish { answer: "Autumn moonlight".into() });
    }

    #[test]
    fn a_summary_stands_for_the_steps_it_covers() {
        let steps = [
            instruction(),
            model(1, "first", &[("a", "workspace__read")]),
            result(2, 1, 0, "a"),
            step(3, StepKind::Summary, json!({ "text": "Read the brief.", "covers_through": 2 })),
            model(4, "second", &[]),
        ];
        let replay = replay(&steps).unwrap();
        assert_eq!(replay.messages.len(), 2);
        assert!(replay.messages[0].text().contains("Read the brief."));
        assert!(replay.messages[0].text().starts_with("Write a haiku."), "the instruction is never dropped");
        assert_eq!(replay.next, NextMove::Finish { answer: "second".into() });
    }

    #[test]
    fn summaries_end_after_a_whole_turn_and_keep_the_newest() {
        let steps = [
            instruction(),
            model(1, "one", &[("a", "x")]),
            result(2, 1, 0, "a"),
            model(3, "two", &[("b", "x")]),
            result(4, 3, 0, "b"),
            model(5, "three", &[("c", "x")]),
        ];
        assert_eq!(summary_boundary(&steps, 1), Some(4));
        assert_eq!(summary_boundary(&steps, 2), Some(2));
        assert_eq!(summary_boundary(&steps, 3), None);
    }

    #[test]
    fn guidance_sits_before_the_model_call_it_was_sent_with() {
        let steps = [
            instruction(),
            model(1, "Looking around.", &[("a", "workspace__read")]),
            result(2, 1, 0, "a"),
            model(3, "Back on it.", &[("b", "workspace__read")]),
            result(4, 3, 0, "b"),
        ];
        let guidance = [
            Guidance { before_step: 5, message: "Finish the post.".into() },
            Guidance { before_step: 3, message: "Stop browsing.".into() },
        ];
        let replay = replay_with_guidance(&steps, &guidance).unwrap();
        let texts: Vec<String> = replay.messages.iter().map(Message::text).collect();
        assert_eq!(texts[3], guidance_text("Stop browsing."));
        assert_eq!(texts[4], "Back on it.");
        assert_eq!(texts.last().unwrap(), &guidance_text("Finish the post."));
        assert_eq!(replay.messages.len(), 7);
        assert_eq!(replay.next, NextMove::CallModel);
    }

    #[test]
    fn a_run_must_start_with_its_instruction() {
        assert!(matches!(replay(&[]), Err(ReplayError::Empty)));
        assert!(matches!(replay(&[model(0, "x", &[])]), Err(ReplayError::NoInstruction { .. })));
    }
}
