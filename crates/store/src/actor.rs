//! Who is making the changes being written: every event appended records
//! the [`Actor`] (user and token) of the request that caused it, without
//! each store method taking it as a parameter. The server runs each
//! request inside [`acting_as`]; the store reads [`current`] where it
//! appends an event. SQLite's writer thread runs other tasks' commands, so
//! a command carries the actor of the task that sent it and the writer
//! sets it while the command runs. Work the system does by itself (workers,
//! the scheduler) has no actor.

use std::cell::Cell;
use std::future::Future;

pub use steward_domain::access::Actor;

tokio::task_local! {
    static TASK_ACTOR: Option<Actor>;
}

thread_local! {
    static WRITER_ACTOR: Cell<Option<Actor>> = const { Cell::new(None) };
}

/// Runs `future` with its changes recorded as made by `actor`.
pub async fn acting_as<F: Future>(actor: Option<Actor>, future: F) -> F::Output {
    TASK_ACTOR.scope(actor, future).await
}

/// The actor of the change being written: the command's on SQLite's writer
/// thread, otherwise the current task's.
pub fn current() -> Option<Actor> {
    WRITER_ACTOR.with(Cell::get).or_else(|| TASK_ACTOR.try_with(|actor| *actor).ok().flatten())
}

/// Runs one writer command as made by `actor`.
pub(crate) fn on_writer_thread<T>(actor: Option<Actor>, work: impl FnOnce() -> T) -> T {
    WRITER_ACTOR.with(|cell| cell.set(actor));
    let result = work();
    WRITER_ACTOR.with(|cell| cell.set(None));
    result
}

#[cfg(test)]
mod tests {
    use steward_domain::UserId;

    use super::*;

    #[tokio::test]
    async fn a_task_and_a_writer_command_see_their_actor() {
        let actor = Actor { user: UserId(2), token_id: Some(9) };
        assert_eq!(current(), None);
        assert_eq!(acting_as(Some(actor), async { current() }).await, Some(actor));
        assert_eq!(on_writer_thread(Some(actor), current), Some(actor));
        assert_eq!(current(), None, "the writer forgets the command's actor");
    }
}
