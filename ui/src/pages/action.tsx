// One action: its state and the moves it allows (define, schedule for a
// time, dismiss…), its refinement thread with the agent, its runs and the
// files its runs wrote.

import { useState } from 'preact/hooks';
import { ApiError, get, patch, post } from '../api/client';
import type { Action, ActionPriority, Artifact, Run } from '../api/types';
import { agentName } from '../agents';
import { Conversation } from '../components/conversation';
import { useData } from '../components/data';
import { DraftCard } from '../components/draft-card';
import { Badge, ErrorNote, Loading, PageHeader, toast } from '../components/ui';
import { formatAgo, formatBytes, formatTime, formatUsd } from '../format';
import { useLiveReload } from '../live';
import { PRIORITIES } from './kanban-rules';

export function ActionPage({ id }: { id: string }) {
  const { data, error, reload } = useData(
    async (signal) => {
      const [action, runs, artifacts] = await Promise.all([
        get<Action>(`/actions/${id}`, signal),
        get<{ runs: Run[] }>(`/runs?action_id=${id}&limit=20`, signal),
        get<{ artifacts: Artifact[] }>(`/actions/${id}/artifacts`, signal).catch(() => ({ artifacts: [] as Artifact[] })),
      ]);
      return { action, runs: runs.runs, artifacts: artifacts.artifacts };
    },
    [id],
  );
  useLiveReload(
    (event) =>
      (event.subject === 'action' && String(event.subject_id) === id) ||
      String(event.data.action_id) === id,
    reload,
  );

  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading />;
  const { action } = data;
  const refinable = action.state === 'draft' || action.state === 'defined';

  return (
    <>
      <PageHeader
        title={action.title}
        subtitle={
          <>
            <Badge value={action.state} /> by <a href={`/agents/${action.agent_id}`}>{agentName(action.agent_id)}</a> · {action.priority} priority · {action.mode}
          </>
        }
      />
      {action.state_reason && <p class="muted">Why {action.state.replace('_', ' ')}: {action.state_reason}</p>}
      <div class="chat-layout">
        <div>
          {action.description && (
            <section class="card">
              <h2>Description</h2>
              <p class="pre-wrap">{action.description}</p>
            </section>
          )}
          <h2>Refinement thread</h2>
          <Conversation
            path={`/actions/${action.id}/chat`}
            label={`Refinement thread of ${action.title}`}
            placeholder="Ask for a change: shorter, another angle, a different deliverable…"
            disabled={refinable ? null : `The action is ${action.state.replace('_', ' ')}; only drafts and defined actions are refined.`}
            renderDraft={(changed) => <DraftCard action={changed} showRefine={false} onChange={reload} />}
            onDraft={reload}
            intro={<p>Tell the agent what to change about this action; it revises the draft and says what it changed.</p>}
          />
        </div>
        <aside class="side">
          <ActionControls action={action} onChange={reload} />
          <section aria-labelledby="action-runs">
            <h2 id="action-runs">Runs</h2>
            {data.runs.length === 0 ? (
              <p class="muted">No run yet: schedule the action and a run of its agent works on it.</p>
            ) : (
              <ul class="plain-list">
                {data.runs.map((run) => (
                  <li key={run.id}>
                    <a href={`/runs/${run.id}`}>Run #{run.id}</a> <Badge value={run.outcome ?? run.status} />{' '}
                    <span class="muted">
                      {formatUsd(run.usage.cost_usd, run.usage.cost_known)} · {formatAgo(run.created_at)}
                    </span>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="action-files">
            <h2 id="action-files">Files</h2>
            {data.artifacts.length === 0 ? (
              <p class="muted">Files the agent writes for this action appear here.</p>
            ) : (
              <ul class="plain-list">
                {data.artifacts.map((artifact) => (
                  <li key={artifact.id}>
                    <a href={`/api/v1/artifacts/${artifact.id}/content`} target="_blank" rel="noopener">
                      {artifact.path}
                    </a>{' '}
                    <span class="muted">{formatBytes(artifact.bytes)}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </aside>
      </div>
    </>
  );
}

function ActionControls({ action, onChange }: { action: Action; onChange: () => void }) {
  const [when, setWhen] = useState('');
  const [error, setError] = useState<ApiError | null>(null);

  async function act(change: () => Promise<unknown>, done: string) {
    setError(null);
    try {
      await change();
      toast(done);
      onChange();
    } catch (cause) {
      setError(cause as ApiError);
    }
  }

  const transition = (to: string, done: string) => act(() => post(`/actions/${action.id}/transition`, { to }), done);
  const schedule = () =>
    act(
      () => post(`/actions/${action.id}/schedule`, when ? { at: new Date(when).toISOString() } : {}),
      when ? `Scheduled for ${formatTime(new Date(when).toISOString())}` : 'Scheduled: a run starts now',
    );

  return (
    <section class="card" aria-labelledby="action-moves">
      <h2 id="action-moves">Next step</h2>
      {action.state === 'draft' && <DraftCard action={action} showRefine={false} onChange={onChange} />}
      {(action.state === 'defined' || action.state === 'failed') && (
        <div class="form">
          <label>
            Start at (your time zone; empty for now)
            <input type="datetime-local" value={when} onInput={(event) => setWhen(event.currentTarget.value)} />
          </label>
          <div class="button-row">
            <button type="button" class="primary" onClick={schedule}>
              {action.state === 'failed' ? 'Schedule again' : 'Schedule'}
            </button>
            {action.state === 'defined' && (
              <button type="button" onClick={() => transition('draft', 'Back to draft')}>
                Back to draft
              </button>
            )}
            <button type="button" class="danger" onClick={() => transition('dismissed', 'Dismissed')}>
              Dismiss
            </button>
          </div>
        </div>
      )}
      {(action.state === 'scheduled' || action.state === 'in_progress') && (
        <div class="button-row">
          <p class="muted">A run is working on it{action.scheduled_for ? `, from ${formatTime(action.scheduled_for)}` : ''}.</p>
          <button type="button" onClick={() => transition('defined', 'Taken back to defined; its run is cancelled')}>
            Take back
          </button>
          <button type="button" class="danger" onClick={() => transition('dismissed', 'Dismissed; its run is cancelled')}>
            Dismiss
          </button>
        </div>
      )}
      {(action.state === 'completed' || action.state === 'dismissed') && <p class="muted">Nothing more to do: the action is {action.state}.</p>}
      {!['completed', 'dismissed'].includes(action.state) && (
        <label class="inline-field">
          Priority
          <select
            value={action.priority}
            onChange={(event) =>
              act(() => patch(`/actions/${action.id}`, { priority: event.currentTarget.value as ActionPriority }), 'Priority changed')
            }
          >
            {PRIORITIES.map((priority) => (
              <option key={priority} value={priority}>
                {priority}
              </option>
            ))}
          </select>
        </label>
      )}
      <ErrorNote error={error} />
    </section>
  );
}
