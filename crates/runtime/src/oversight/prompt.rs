//! What the guardian's model is shown: the goal (the agent's, or the
//! project task's done-when) and the run's trajectory — its newest steps,
//! each cut short — within a fixed size, so a look costs about the same
//! however long the run is.

use std::fmt::Write as _;

use serde_json::Value;
use steward_domain::{Agent, RunStep, StepKind};

/// Characters of trajectory shown; older steps are left out first.
const TRAJECTORY_CHARS: usize = 12_000;
/// Characters of one step shown.
const STEP_CHARS: usize = 600;

pub(crate) const SYSTEM: &str = "You supervise an AI agent while it works. Judge whether its recent steps move \
     toward its goal. Answer with: alignment, a score from 0 (lost) to 1 (squarely on the goal); drift_reason, \
     what it does instead (empty when on course); intervention, one of continue, steer, pause, cancel; and \
     message, what to tell the agent to bring it back (empty for continue). Steer for a detour it can correct; \
     pause when a person should look; cancel only for work that is wasted or harmful.";

fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let kept: String = text.chars().take(limit).collect();
    format!("{kept}…")
}

fn step_line(step: &RunStep) -> String {
    let content = &step.content;
    let text = match step.kind {
        StepKind::Instruction | StepKind::Summary => content["text"].as_str().unwrap_or_default().to_string(),
        StepKind::ModelCall => {
            let mut parts = Vec::new();
            for part in content["content"].as_array().into_iter().flatten() {
                if let Some(text) = part["text"].as_str() {
                    parts.push(text.to_string());
                }
            }
            for call in content["tool_calls"].as_array().into_iter().flatten() {
                let name = call["wire_name"].as_str().unwrap_or("?");
                parts.push(format!("calls {name}({})", compact(&call["input"])));
            }
            parts.join(" ")
        }
        StepKind::ToolCall => {
            let tool = content["tool"].as_str().unwrap_or("?");
            let result = content["result"].as_str().unwrap_or_default();
            let failed = if content["is_error"].as_bool() == Some(true) { " (failed)" } else { "" };
            format!("{tool}{failed} → {result}")
        }
    };
    format!("[{} {}] {}", step.sequence, step.kind, cut(text.trim(), STEP_CHARS))
}

fn compact(value: &Value) -> String {
    cut(&value.to_string(), 200)
}

/// What a run should achieve: its agent's goal, and the project task's
/// done-when when the run works on one.
pub(crate) struct Goal<'a> {
    pub agent: &'a str,
    pub goal: &'a str,
    pub success_criteria: &'a [String],
    pub done_when: Option<&'a str>,
}

impl<'a> Goal<'a> {
    pub(crate) fn of(agent: &'a Agent, done_when: Option<&'a str>) -> Goal<'a> {
        Goal { agent: &agent.name, goal: &agent.goal, success_criteria: &agent.success_criteria, done_when }
    }
}

/// The user message of a look at a run: goal, instruction, newest steps.
pub(crate) fn assessment_prompt(goal: &Goal<'_>, instruction: &str, steps: &[RunStep]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "Agent: {}", goal.agent);
    let _ = writeln!(text, "Goal: {}", goal.goal);
    let done_when = goal.done_when;
    for criterion in goal.success_criteria {
        let _ = writeln!(text, "Success criterion: {criterion}");
    }
    if let Some(done_when) = done_when {
        let _ = writeln!(text, "This run works on a project task; it is done when: {done_when}");
    }
    let _ = writeln!(text, "\nThe run's instruction:\n{}\n", cut(instruction, 2000));
    let mut lines: Vec<String> = Vec::new();
    let mut used = 0;
    for step in steps.iter().rev().filter(|step| step.kind != StepKind::Instruction) {
        let line = step_line(step);
        used += line.len();
        if used > TRAJECTORY_CHARS {
            lines.push("(older steps left out)".into());
            break;
        }
        lines.push(line);
    }
    lines.reverse();
    let _ = writeln!(text, "Its steps so far, oldest first:");
    for line in lines {
        let _ = writeln!(text, "{line}");
    }
    text.push_str("\nIs this run on course toward the goal?");
    text
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use steward_domain::RunId;

    use super::*;

    fn step(sequence: u32, kind: StepKind, content: Value) -> RunStep {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        crate::agent::steps::new_step(RunId(1), sequence, kind, "", content, at, at)
    }

    #[test]
    fn the_prompt_shows_goal_task_and_newest_steps() {
        let goal = Goal {
            agent: "Scribe",
            goal: "Write the launch post",
            success_criteria: &[],
            done_when: Some("the post is in post.md"),
        };
        let steps = [
            step(0, StepKind::Instruction, json!({"text": "Draft the post"})),
            step(
                1,
                StepKind::ModelCall,
                json!({"content": [{"type": "text", "text": "Browsing cats."}],
                "tool_calls": [{"id": "a", "wire_name": "http__fetch", "input": {"url": "https://cats.example"}}]}),
            ),
            step(
                2,
                StepKind::ToolCall,
                json!({"tool": "http.fetch", "result": &"meow ".repeat(500), "is_error": false}),
            ),
        ];
        let prompt = assessment_prompt(&goal, "Draft the post", &steps);
        assert!(prompt.contains("Goal: Write the launch post"));
        assert!(prompt.contains("it is done when: the post is in post.md"));
        assert!(prompt.contains(r#"[1 model_call] Browsing cats. calls http__fetch({"url":"https://cats.example"})"#));
        assert!(prompt.contains("[2 tool_call] http.fetch → meow"));
        assert!(prompt.len() < 4000, "a long result is cut: {}", prompt.len());
    }
}
