//! The rules of a task graph: ids unique, every dependency a task of the
//! graph, and no cycle (the cycle named). It reads only ids, so the tasks
//! document and anything else holding tasks can use it.

use std::collections::BTreeMap;

use crate::dependency_graph::topological_order;
use crate::validation::ValidationError;

/// Checks the graph of `tasks`, each given as its id and the ids it depends
/// on: ids unique, every dependency a task of the graph, and no cycle. A
/// cycle is named in dependency order, `T001 → T002 → T001`.
pub fn check_task_graph(tasks: &[(&str, &[String])]) -> Result<(), ValidationError> {
    let mut index_of = BTreeMap::new();
    for (index, (id, _)) in tasks.iter().enumerate() {
        if index_of.insert(*id, index).is_some() {
            return Err(ValidationError::new(format!("tasks[{index}].id"), format!("{id} is used twice")));
        }
    }
    let mut dependencies = Vec::with_capacity(tasks.len());
    for (index, (task, depends_on)) in tasks.iter().enumerate() {
        let mut edges = Vec::with_capacity(depends_on.len());
        for (position, id) in depends_on.iter().enumerate() {
            match index_of.get(id.as_str()) {
                Some(&target) => edges.push(target),
                None => {
                    return Err(ValidationError::new(
                        format!("tasks[{index}].depends_on[{position}]"),
                        format!("task {task} depends on {id}, which is not a task of the graph"),
                    ));
                }
            }
        }
        dependencies.push(edges);
    }
    topological_order(&dependencies).map(|_| ()).map_err(|cycle| {
        let names: Vec<&str> = cycle.iter().map(|&index| tasks[index].0).collect();
        ValidationError::new("tasks", format!("the dependencies make a cycle: {}", names.join(" → ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(tasks: &[(&str, &[&str])]) -> Result<(), ValidationError> {
        let owned: Vec<(&str, Vec<String>)> =
            tasks.iter().map(|(id, deps)| (*id, deps.iter().map(|d| d.to_string()).collect())).collect();
        let borrowed: Vec<(&str, &[String])> = owned.iter().map(|(id, deps)| (*id, deps.as_slice())).collect();
        check_task_graph(&borrowed)
    }

    #[test]
    fn a_cycle_is_refused_and_named() {
        let error = check(&[("T001", &["T003"]), ("T002", &["T001"]), ("T003", &["T002"])]).unwrap_err();
        assert_eq!(error.field, "tasks");
        assert_eq!(error.message, "the dependencies make a cycle: T001 → T003 → T002 → T001");
        assert_eq!(check(&[("1", &["9"])]).unwrap_err().field, "tasks[0].depends_on[0]");
        assert_eq!(check(&[("1", &[]), ("1", &[])]).unwrap_err().field, "tasks[1].id");
        assert_eq!(check(&[("1", &[]), ("2", &["1"])]), Ok(()));
    }
}
