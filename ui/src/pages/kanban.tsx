// The kanban: actions by state (or queue jobs by state), filtered by agent
// and priority. Dragging a card to another column changes its state;
// dropping it on another priority band of a column changes its priority.
// While a card is dragged, the columns it may go to are marked; a move the
// server refuses shows the server's message and the card stays where it was.
// Every card also has a "Move to" menu, for keyboards and touch screens.

import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { ApiError, get, patch, post } from '../api/client';
import type { Action, ActionPriority, ActionState, Job, JobCounts, JobState } from '../api/types';
import { agentName, agents } from '../agents';
import { useData } from '../components/data';
import { Empty, ErrorNote, Loading, PageHeader, toast } from '../components/ui';
import { formatAgo, words } from '../format';
import { about, useLiveReload } from '../live';
import { ACTION_COLUMNS, actionMoveAllowed, JOB_COLUMNS, jobMoveAllowed, PRIORITIES } from './kanban-rules';

export function KanbanPage() {
  const { query, route, path } = useLocation();
  const mode = query.mode === 'jobs' ? 'jobs' : 'actions';
  const setQuery = (changes: Record<string, string>) => {
    const next = new URLSearchParams({ ...query, ...changes });
    for (const [key, value] of [...next.entries()]) if (!value) next.delete(key);
    const text = next.toString();
    route(text ? `${path}?${text}` : path, true);
  };
  return (
    <>
      <PageHeader
        title="Kanban"
        subtitle={mode === 'actions' ? 'Drag an action to change its state or priority.' : 'Drag a dead job to Queued to retry it, or a waiting one to Cancelled.'}
      />
      <div class="toolbar" role="group" aria-label="What the board shows">
        <div class="segmented" role="radiogroup" aria-label="Cards">
          <button type="button" role="radio" aria-checked={mode === 'actions'} onClick={() => setQuery({ mode: '' })}>
            Actions
          </button>
          <button type="button" role="radio" aria-checked={mode === 'jobs'} onClick={() => setQuery({ mode: 'jobs' })}>
            Queue jobs
          </button>
        </div>
        {mode === 'actions' && (
          <>
            <label class="inline-field">
              Agent
              <select value={query.agent ?? ''} onChange={(event) => setQuery({ agent: event.currentTarget.value })}>
                <option value="">All agents</option>
                {agents.value.map((agent) => (
                  <option key={agent.id} value={String(agent.id)}>
                    {agent.name}
                  </option>
                ))}
              </select>
            </label>
            <label class="inline-field">
              Priority
              <select value={query.priority ?? ''} onChange={(event) => setQuery({ priority: event.currentTarget.value })}>
                <option value="">Any priority</option>
                {PRIORITIES.map((priority) => (
                  <option key={priority} value={priority}>
                    {priority}
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
      </div>
      {mode === 'actions' ? <ActionBoard agent={query.agent} priority={query.priority} /> : <JobBoard />}
    </>
  );
}

interface Dragged {
  id: number;
  state: string;
  priority?: ActionPriority;
}

function ActionBoard(props: { agent?: string; priority?: string }) {
  const { data, error, reload } = useData(
    (signal) => get<{ actions: Action[] }>(props.agent ? `/actions?agent_id=${props.agent}` : '/actions', signal).then((page) => page.actions),
    [props.agent],
  );
  useLiveReload(about('action.'), reload);
  const [dragged, setDragged] = useState<Dragged | null>(null);
  const [pending, setPending] = useState<number | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);

  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading />;
  const actions = data.filter((action) => !props.priority || action.priority === props.priority);

  async function move(action: Action, to: ActionState, priority: ActionPriority) {
    setRefusal(null);
    if (to === action.state && priority === action.priority) return;
    setPending(action.id);
    try {
      if (priority !== action.priority) await patch(`/actions/${action.id}`, { priority });
      if (to !== action.state) {
        if (to === 'scheduled') await post(`/actions/${action.id}/schedule`);
        else await post(`/actions/${action.id}/transition`, { to });
      }
      toast(`${action.title}: ${to !== action.state ? words(to) : `${priority} priority`}`);
    } catch (cause) {
      const message = (cause as ApiError).message;
      setRefusal(`${action.title} stays ${words(action.state)}: ${message}`);
    } finally {
      setPending(null);
      reload();
    }
  }

  if (data.length === 0) {
    return (
      <Empty title="No actions on the board">
        <p>
          {agents.value.length === 0 ? (
            <>
              <a href="/agents/new">Create an agent</a>, then chat with it: it proposes actions as drafts.
            </>
          ) : (
            <>Chat with an agent: the actions it proposes start here as drafts.</>
          )}
        </p>
      </Empty>
    );
  }

  return (
    <>
      <div class="refusal" role="alert">
        {refusal && (
          <p class="error-note" data-testid="kanban-refusal">
            {refusal}
          </p>
        )}
      </div>
      <div class="board" aria-label="Actions by state">
        {ACTION_COLUMNS.map((state) => {
          const cards = actions.filter((action) => action.state === state);
          const legal = dragged ? actionMoveAllowed(dragged.state as ActionState, state) : null;
          return (
            <section
              key={state}
              class={`column${legal === true ? ' drop-ok' : legal === false ? ' drop-no' : ''}`}
              aria-label={`${words(state)}: ${cards.length}`}
              data-column={state}
              onDragOver={(event) => event.preventDefault()}
              onDrop={(event) => {
                // Dropped beside the priority bands: the state changes, the priority stays.
                event.preventDefault();
                const action = data.find((candidate) => candidate.id === Number(event.dataTransfer?.getData('text/plain')));
                setDragged(null);
                if (action) void move(action, state, action.priority);
              }}
            >
              <h2>
                {words(state)} <span class="count">{cards.length}</span>
              </h2>
              {PRIORITIES.map((priority) => {
                const band = cards.filter((action) => action.priority === priority);
                if (band.length === 0 && !dragged) return null;
                return (
                  <div
                    key={priority}
                    class="band"
                    data-band={`${state}:${priority}`}
                    onDragOver={(event) => event.preventDefault()}
                    onDrop={(event) => {
                      event.preventDefault();
                      event.stopPropagation();
                      const id = Number(event.dataTransfer?.getData('text/plain'));
                      const action = data.find((candidate) => candidate.id === id);
                      setDragged(null);
                      if (action) void move(action, state, priority);
                    }}
                  >
                    <h3 class="band-label">{priority}</h3>
                    {band.map((action) => (
                      <ActionCard
                        key={action.id}
                        action={action}
                        pending={pending === action.id}
                        onDragStart={() => setDragged({ id: action.id, state: action.state, priority: action.priority })}
                        onDragEnd={() => setDragged(null)}
                        onMove={(to) => void move(action, to, action.priority)}
                      />
                    ))}
                  </div>
                );
              })}
              {cards.length === 0 && !dragged && <p class="column-empty muted">none</p>}
            </section>
          );
        })}
      </div>
    </>
  );
}

function ActionCard(props: {
  action: Action;
  pending: boolean;
  onDragStart: () => void;
  onDragEnd: () => void;
  onMove: (to: ActionState) => void;
}) {
  const { action } = props;
  const targets = ACTION_COLUMNS.filter((state) => state !== action.state && actionMoveAllowed(action.state, state));
  return (
    <article
      class={`card kanban-card priority-${action.priority}${props.pending ? ' pending' : ''}`}
      draggable
      data-action-id={action.id}
      aria-label={`${action.title}, ${words(action.state)}, ${action.priority} priority`}
      onDragStart={(event) => {
        event.dataTransfer?.setData('text/plain', String(action.id));
        props.onDragStart();
      }}
      onDragEnd={props.onDragEnd}
    >
      <a href={`/actions/${action.id}`} class="kanban-title">
        {action.title}
      </a>
      <p class="muted kanban-meta">
        {agentName(action.agent_id)} · {formatAgo(action.updated_at)}
      </p>
      {targets.length > 0 && (
        <label class="move">
          <span class="visually-hidden">Move {action.title} to</span>
          <select
            value=""
            onChange={(event) => {
              const to = event.currentTarget.value as ActionState;
              event.currentTarget.value = '';
              if (to) props.onMove(to);
            }}
          >
            <option value="">Move to…</option>
            {targets.map((state) => (
              <option key={state} value={state}>
                {words(state)}
              </option>
            ))}
          </select>
        </label>
      )}
    </article>
  );
}

const JOBS_PER_COLUMN = 30;

function JobBoard() {
  const { data, error, reload } = useData(async (signal) => {
    const pages = await Promise.all(
      JOB_COLUMNS.map((state) => get<{ jobs: Job[]; counts: JobCounts }>(`/jobs?state=${state}&limit=${JOBS_PER_COLUMN}`, signal)),
    );
    return { jobs: pages.flatMap((page) => page.jobs), counts: pages[0]?.counts };
  }, []);
  useLiveReload(about('job.'), reload);
  const [dragged, setDragged] = useState<Dragged | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);

  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading />;

  async function move(job: Job, to: JobState) {
    setRefusal(null);
    if (to === job.state) return;
    try {
      if (to === 'queued') await post(`/jobs/${job.id}/retry`);
      else if (to === 'cancelled') await post(`/jobs/${job.id}/cancel`);
      else throw new ApiError(409, 'illegal_transition', `a job becomes ${words(to)} by itself; by hand it can only be retried or cancelled`);
      toast(`Job #${job.id}: ${to === 'queued' ? 'retried' : 'cancelled'}`);
    } catch (cause) {
      setRefusal(`Job #${job.id} stays ${words(job.state)}: ${(cause as ApiError).message}`);
    } finally {
      reload();
    }
  }

  if (data.counts && data.counts.total === 0) {
    return (
      <Empty title="The queue is empty">
        <p>Every run and scheduled action becomes a job here. Schedule an action, or enqueue a job with <code>steward job enqueue</code>.</p>
      </Empty>
    );
  }

  return (
    <>
      <div class="refusal" role="alert">
        {refusal && <p class="error-note">{refusal}</p>}
      </div>
      <div class="board" aria-label="Jobs by state">
        {JOB_COLUMNS.map((state) => {
          const cards = data.jobs.filter((job) => job.state === state);
          const legal = dragged ? jobMoveAllowed(dragged.state as JobState, state) : null;
          const total = data.counts?.[state] ?? cards.length;
          return (
            <section
              key={state}
              class={`column${legal === true ? ' drop-ok' : legal === false ? ' drop-no' : ''}`}
              aria-label={`${words(state)}: ${total}`}
              data-column={state}
              onDragOver={(event) => event.preventDefault()}
              onDrop={(event) => {
                event.preventDefault();
                const id = Number(event.dataTransfer?.getData('text/plain'));
                const job = data.jobs.find((candidate) => candidate.id === id);
                setDragged(null);
                if (job) void move(job, state);
              }}
            >
              <h2>
                {words(state)} <span class="count">{total}</span>
              </h2>
              {cards.map((job) => (
                <article
                  key={job.id}
                  class="card kanban-card"
                  draggable
                  aria-label={`Job ${job.id}, ${job.kind}, ${words(job.state)}`}
                  onDragStart={(event) => {
                    event.dataTransfer?.setData('text/plain', String(job.id));
                    setDragged({ id: job.id, state: job.state });
                  }}
                  onDragEnd={() => setDragged(null)}
                >
                  <a href={`/queue/${job.id}`} class="kanban-title">
                    #{job.id} {job.kind}
                  </a>
                  <p class="muted kanban-meta">
                    {job.queue} · priority {job.priority} · {formatAgo(job.updated_at)}
                  </p>
                  {job.last_error && <p class="kanban-error">{job.last_error}</p>}
                  {(job.state === 'dead' || job.state === 'cancelled') && (
                    <button type="button" onClick={() => void move(job, 'queued')}>
                      Retry
                    </button>
                  )}
                  {(job.state === 'blocked' || job.state === 'queued' || job.state === 'running') && (
                    <button type="button" onClick={() => void move(job, 'cancelled')}>
                      Cancel
                    </button>
                  )}
                </article>
              ))}
              {total > cards.length && (
                <a class="muted" href={`/queue?state=${state}`}>
                  {total - cards.length} more in the queue
                </a>
              )}
              {cards.length === 0 && <p class="column-empty muted">none</p>}
            </section>
          );
        })}
      </div>
    </>
  );
}

