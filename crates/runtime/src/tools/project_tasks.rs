//! `project.add_task`: while working on a project's task, the agent adds a
//! task it discovered — with the reason and the task it came from — to the
//! project's graph. Given only to runs of a project's task jobs; when the
//! project wants a person to approve discovered work (the default), the
//! call waits in the approvals inbox first.

use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_domain::ProjectId;
use steward_domain::project::TaskSpec;
use steward_domain::project::discovered::DiscoveredTask;

use super::{Tool, ToolContext, ToolError, ToolOutput, parse_input, refusal, schema_of};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AddTaskArguments {
    /// A new task id in the project's style (T007, or 2.3).
    id: String,
    title: String,
    /// Why the task is needed: what you found while working on yours.
    reason: String,
    /// What must be true for it to count as done.
    done_when: String,
    /// Requirement or criterion ids it serves (R1, R1.2).
    #[serde(default)]
    requirements: Vec<String>,
    /// Ids of tasks that must be done first.
    #[serde(default)]
    depends_on: Vec<String>,
    /// Whether it may run beside other tasks.
    #[serde(default)]
    parallel: bool,
}

/// Adds a discovered task to the project the run works on.
#[derive(Debug)]
pub struct AddProjectTask {
    pub project: ProjectId,
    /// The task the run works on.
    pub from_task: String,
    /// The project wants a person to approve discovered tasks.
    pub needs_approval: bool,
}

#[async_trait]
impl Tool for AddProjectTask {
    fn name(&self) -> &str {
        "project.add_task"
    }

    fn description(&self) -> &str {
        "Add a task you discovered while working on yours to the project's task graph, with the reason. It is \
         queued after the tasks it depends on; do not do its work in your own task."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<AddTaskArguments>()
    }

    fn requires_approval(&self) -> bool {
        self.needs_approval
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: AddTaskArguments = parse_input(input)?;
        let discovered = DiscoveredTask {
            spec: TaskSpec {
                id: arguments.id.trim().to_string(),
                title: arguments.title,
                requirements: arguments.requirements,
                done_when: arguments.done_when,
                parallel: arguments.parallel,
                depends_on: arguments.depends_on,
                group: None,
                details: Vec::new(),
            },
            from_task: self.from_task.clone(),
            reason: arguments.reason,
        };
        let key = discovered.spec.id.clone();
        let record = context.store.add_task(context.user_id, self.project, discovered).await.map_err(refusal)?;
        let task = record.tasks.iter().find(|task| task.spec.id == key);
        let state = task.map_or("pending", |task| task.state.as_str());
        Ok(ToolOutput::text(json!({ "task": key, "state": state, "project": self.project }).to_string()))
    }
}
