//! Ordering a batch of jobs by their dependencies on each other, and naming
//! the cycle when there is one.

/// Orders nodes `0..dependencies.len()` so every node comes after the nodes it
/// depends on (`dependencies[i]` lists what node `i` depends on).
///
/// On a cycle, returns its nodes in dependency order with the first node
/// repeated at the end (`[a, b, a]` reads "a depends on b depends on a").
pub fn topological_order(dependencies: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unvisited,
        InProgress,
        Done,
    }

    let node_count = dependencies.len();
    let mut marks = vec![Mark::Unvisited; node_count];
    let mut order = Vec::with_capacity(node_count);
    // Iterative depth-first search; the path doubles as the cycle witness.
    let mut path: Vec<(usize, usize)> = Vec::new();

    for root in 0..node_count {
        if marks[root] != Mark::Unvisited {
            continue;
        }
        marks[root] = Mark::InProgress;
        path.push((root, 0));
        while let Some(&mut (node, ref mut next_edge)) = path.last_mut() {
            let edges = &dependencies[node];
            if *next_edge < edges.len() {
                let target = edges[*next_edge];
                *next_edge += 1;
                if target >= node_count {
                    continue;
                }
                match marks[target] {
                    Mark::Unvisited => {
                        marks[target] = Mark::InProgress;
                        path.push((target, 0));
                    }
                    Mark::InProgress => {
                        let start = path.iter().position(|&(n, _)| n == target).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[start..].iter().map(|&(n, _)| n).collect();
                        cycle.push(target);
                        return Err(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                order.push(node);
                path.pop();
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dependencies_come_first() {
        // 0 depends on 1, 1 depends on 2.
        let order = topological_order(&[vec![1], vec![2], vec![]]).unwrap();
        assert_eq!(order, [2, 1, 0]);
    }

    #[test]
    fn names_the_cycle() {
        // 0 → 1 → 2 → 1
        let cycle = topological_order(&[vec![1], vec![2], vec![1]]).unwrap_err();
        assert_eq!(cycle, [1, 2, 1]);
        let self_loop = topological_order(&[vec![0]]).unwrap_err();
        assert_eq!(self_loop, [0, 0]);
    }

    proptest! {
        #[test]
        fn any_order_returned_respects_every_edge(
            edges in proptest::collection::vec(proptest::collection::vec(0usize..12, 0..4), 1..12)
        ) {
            match topological_order(&edges) {
                Ok(order) => {
                    prop_assert_eq!(order.len(), edges.len());
                    let position: Vec<usize> = {
                        let mut position = vec![0; edges.len()];
                        for (index, node) in order.iter().enumerate() { position[*node] = index; }
                        position
                    };
                    for (node, targets) in edges.iter().enumerate() {
                        for &target in targets.iter().filter(|&&t| t < edges.len()) {
                            prop_assert!(position[target] < position[node]);
                        }
                    }
                }
                Err(cycle) => {
                    prop_assert!(cycle.len() >= 2);
                    prop_assert_eq!(cycle.first(), cycle.last());
                    for pair in cycle.windows(2) {
                        prop_assert!(edges[pair[0]].contains(&pair[1]), "{:?} is not an edge", pair);
                    }
                }
            }
        }
    }
}
