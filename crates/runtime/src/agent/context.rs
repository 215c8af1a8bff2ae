//! What the model is told about the agent it plays: the system prompt
//! (instructions, goal, criteria, timeline, skills, recent actions), and a
//! cheap estimate of how many tokens a request takes.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use steward_domain::memory::{CoreBlock, Fact, FactKind, text};
use steward_domain::{Action, Agent};
use steward_llm::{ContentPart, Message, ToolDefinition};

/// One line of the skills index: only names and descriptions sit in the
/// context until the agent opens a skill.
#[derive(Clone, Debug, PartialEq)]
pub struct SkillSummary {
    pub name: String,
    pub description: String,
}

/// Actions the system prompt lists: the most recently updated.
const RECENT_ACTIONS: usize = 10;

/// The system prompt of an agent; of its `actions`, the most recently
/// updated are listed.
pub fn system_prompt(agent: &Agent, skills: &[SkillSummary], actions: &[Action], now: DateTime<Utc>) -> String {
    let mut prompt = String::new();
    let _ = writeln!(prompt, "You are {}, an agent working toward this goal:\n{}", agent.name, agent.goal);
    if !agent.success_criteria.is_empty() {
        prompt.push_str("\nSuccess is judged by:\n");
        for criterion in &agent.success_criteria {
            let _ = writeln!(prompt, "- {criterion}");
        }
    }
    if let Some(timeline) = &agent.timeline {
        let _ = writeln!(prompt, "\nTimeline: {timeline}");
    }
    let _ = writeln!(prompt, "\nNow: {} (UTC).", now.format("%A %Y-%m-%d %H:%M"));
    if !agent.instructions.trim().is_empty() {
        let _ = writeln!(prompt, "\nInstructions from your user:\n{}", agent.instructions.trim());
    }
    if !skills.is_empty() {
        prompt.push_str(
            "\nSkills you can open with the skills.open tool when one fits the task (read it before relying on it):\n",
        );
        for skill in skills {
            let _ = writeln!(prompt, "- {}: {}", skill.name, skill.description);
        }
    }
    if !actions.is_empty() {
        let mut recent: Vec<&Action> = actions.iter().collect();
        recent.sort_by_key(|action| std::cmp::Reverse(action.updated_at));
        recent.truncate(RECENT_ACTIONS);
        prompt.push_str("\nRecent actions (deliverables) of yours:\n");
        for action in recent {
            let _ = writeln!(prompt, "- #{} [{}] {}", action.id, action.state, action.title);
        }
    }
    prompt
}

/// Tokens of the system prompt memory may take (core blocks, then the
/// preferences and decisions most relevant to the task).
pub const MEMORY_BUDGET_TOKENS: usize = 1_000;

/// The "what you remember" section: the agent's core blocks, then the
/// preferences and decisions believed now, those sharing most words with
/// `task` first (then the newest), as many as fit in `budget_tokens`.
/// Empty when there is nothing to remember.
pub fn memory_section(blocks: &[CoreBlock], facts: &[Fact], task: &str, budget_tokens: usize) -> String {
    let mut section = String::new();
    let mut used = 0;
    for block in blocks {
        let line = format!("[{}] {}\n", block.label, block.value.trim());
        used += text::estimate_tokens(&line);
        section.push_str(&line);
    }
    let terms = text::query_terms(task);
    let overlap = |fact: &Fact| {
        let words = text::query_terms(&fact.statement);
        terms.iter().filter(|term| words.contains(term)).count()
    };
    let mut ranked: Vec<&Fact> =
        facts.iter().filter(|fact| matches!(fact.kind, FactKind::Preference | FactKind::Decision)).collect();
    ranked.sort_by(|a, b| overlap(b).cmp(&overlap(a)).then(b.valid_at.cmp(&a.valid_at)).then(b.id.cmp(&a.id)));
    for fact in ranked {
        let line = format!("- {} (since {}): {}\n", fact.kind, fact.valid_at.format("%Y-%m-%d"), fact.statement);
        let cost = text::estimate_tokens(&line);
        if used + cost > budget_tokens {
            break;
        }
        used += cost;
        section.push_str(&line);
    }
    if section.is_empty() {
        return section;
    }
    format!("\nWhat you remember about your user's preferences and decisions (follow them):\n{section}")
}

/// Roughly four characters per token: good enough to decide when the
/// context must be condensed, and deliberately on the generous side.
pub fn estimate_tokens(system: &str, messages: &[Message], tools: &[ToolDefinition]) -> u64 {
    let mut characters = system.len();
    for message in messages {
        for part in &message.content {
            characters += match part {
                ContentPart::Text { text } => text.len(),
                ContentPart::ToolUse { name, input, .. } => name.len() + json_len(input),
                ContentPart::ToolResult { content, .. } => content.len(),
                ContentPart::Image { .. } => 6_000,
            };
        }
    }
    for tool in tools {
        characters += tool.name.len() + tool.description.len() + json_len(&tool.input_schema);
    }
    (characters as u64).div_ceil(4)
}

/// The length of a value's JSON text, counted without building the text
/// (this runs before every model call, over every tool schema).
fn json_len(value: &serde_json::Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing to a counter cannot fail, and a Value always serializes.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use steward_domain::{AgentId, AgentStatus, Budget, RunLimits, UserId};

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 3, 4, 12, 0, 0).unwrap()
    }

    fn agent() -> Agent {
        Agent {
            id: AgentId(1),
            user_id: UserId(1),
            name: "Scribe".into(),
            goal: "Publish a weekly newsletter".into(),
            success_criteria: vec!["1,000 subscribers".into()],
            timeline: Some("by June".into()),
            status: AgentStatus::Active,
            model: None,
            instructions: "Be brief.".into(),
            tools: None,
            limits: RunLimits::default(),
            budget: Budget::default(),
            created_at: noon(),
            updated_at: noon(),
        }
    }

    #[test]
    fn the_prompt_carries_goal_criteria_timeline_instructions_and_skills() {
        let skills = [SkillSummary { name: "house-style".into(), description: "How we write".into() }];
        let prompt = system_prompt(&agent(), &skills, &[], noon());
        for expected in [
            "Scribe",
            "weekly newsletter",
            "- 1,000 subscribers",
            "Timeline: by June",
            "Be brief.",
            "- house-style: How we write",
        ] {
            assert!(prompt.contains(expected), "{expected:?} missing from:\n{prompt}");
        }
    }

    #[test]
    fn estimates_grow_with_the_conversation() {
        let short = estimate_tokens("system", &[Message::user("hi")], &[]);
        let long = estimate_tokens("system", &[Message::user("hi".repeat(1000))], &[]);
        assert!(long > short * 100, "{short} {long}");
    }
}
