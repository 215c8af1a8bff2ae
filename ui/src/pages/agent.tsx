// One agent: its goal, success criteria, timeline, status, cost, actions
// done of total, its actions and runs; edit, pause or resume, archive.

import { useState } from 'preact/hooks';
import { ApiError, get, patch, post } from '../api/client';
import type { Action, Agent, AgentMetrics, Run } from '../api/types';
import { refreshAgents } from '../agents';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Loading, PageHeader, Stat, toast } from '../components/ui';
import { formatAgo, formatTime, formatUsd } from '../format';
import { useLiveReload } from '../live';

interface AgentData {
  agent: Agent;
  metrics: AgentMetrics;
  actions: Action[];
  runs: Run[];
}

export function AgentPage({ id }: { id: string }) {
  const { data, error, reload } = useData(
    async (signal): Promise<AgentData> => {
      const [agent, metrics, actions, runs] = await Promise.all([
        get<Agent>(`/agents/${id}`, signal),
        get<AgentMetrics>(`/agents/${id}/metrics`, signal),
        get<{ actions: Action[] }>(`/actions?agent_id=${id}`, signal),
        get<{ runs: Run[] }>(`/runs?agent_id=${id}&limit=10`, signal),
      ]);
      return { agent, metrics, actions: actions.actions, runs: runs.runs };
    },
    [id],
  );
  useLiveReload((event) => (event.subject === 'agent' && String(event.subject_id) === id) || String(event.data.agent_id) === id, reload);
  const [editing, setEditing] = useState(false);

  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading />;
  const { agent, metrics } = data;

  async function setStatus(status: 'active' | 'paused') {
    try {
      await patch<Agent>(`/agents/${agent.id}`, { status });
      toast(status === 'paused' ? `Paused ${agent.name}` : `Resumed ${agent.name}`);
      reload();
      void refreshAgents();
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    }
  }

  async function archive() {
    if (!window.confirm(`Archive ${agent.name}? An archived agent no longer changes or takes new actions. This cannot be undone.`)) return;
    try {
      await post<Agent>(`/agents/${agent.id}/archive`);
      toast(`Archived ${agent.name}`);
      reload();
      void refreshAgents();
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    }
  }

  const archived = agent.status === 'archived';
  return (
    <>
      <PageHeader
        title={agent.name}
        subtitle={<Badge value={agent.status} />}
        actions={
          !archived && (
            <>
              <a class="button primary" href={`/agents/${agent.id}/chat`}>
                Chat
              </a>
              <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
                Edit
              </button>
              {agent.status === 'active' ? (
                <button type="button" onClick={() => setStatus('paused')}>
                  Pause
                </button>
              ) : (
                <button type="button" onClick={() => setStatus('active')}>
                  Resume
                </button>
              )}
              <button type="button" class="danger" onClick={archive}>
                Archive
              </button>
            </>
          )
        }
      />
      {editing && (
        <AgentEditor
          agent={agent}
          onSaved={() => {
            setEditing(false);
            reload();
            void refreshAgents();
          }}
        />
      )}
      <section class="card agent-summary" aria-label="Goal">
        <h2>Goal</h2>
        <p class="goal">{agent.goal}</p>
        <h3>Success criteria</h3>
        {agent.success_criteria.length === 0 ? (
          <p class="muted">None given; edit the agent to add how success is judged.</p>
        ) : (
          <ul>
            {agent.success_criteria.map((criterion) => (
              <li key={criterion}>{criterion}</li>
            ))}
          </ul>
        )}
        <h3>Timeline</h3>
        <p>{agent.timeline ?? <span class="muted">none given</span>}</p>
        <p class="muted">
          Model {agent.model ?? 'the configured default'} · created {formatTime(agent.created_at)}
        </p>
      </section>
      <div class="stats">
        <Stat label="actions done" value={`${metrics.actions_completed} of ${metrics.actions_total}`} />
        <Stat label="spent in total" value={formatUsd(metrics.cost_usd_total, metrics.unknown_cost_calls === 0)} hint={agent.budget.total_usd === null ? 'no total budget' : `budget ${formatUsd(agent.budget.total_usd)}`} />
        <Stat label="spent today (UTC)" value={formatUsd(metrics.cost_usd_today, metrics.unknown_cost_calls_today === 0)} hint={agent.budget.daily_usd === null ? 'no daily budget' : `budget ${formatUsd(agent.budget.daily_usd)} a day`} />
        <Stat label="runs" value={metrics.runs} />
      </div>
      {!archived && <OpenAiClients name={agent.name} />}
      <section aria-labelledby="agent-actions">
        <h2 id="agent-actions">Actions</h2>
        {data.actions.length === 0 ? (
          <Empty title="No actions yet">
            <p>
              {archived ? 'This agent is archived.' : <><a href={`/agents/${agent.id}/chat`}>Chat with {agent.name}</a>: it proposes one concrete next action as a draft.</>}
            </p>
          </Empty>
        ) : (
          <ul class="card-list">
            {data.actions.map((action) => (
              <li key={action.id} class="card">
                <Badge value={action.state} />
                <a href={`/actions/${action.id}`}>{action.title}</a>
                <span class="muted">
                  {action.priority} priority · {formatAgo(action.updated_at)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="agent-runs">
        <h2 id="agent-runs">Recent runs</h2>
        {data.runs.length === 0 ? (
          <Empty title="No runs yet">
            <p>A run starts when an action is scheduled, or from the command line with <code>steward run</code>.</p>
          </Empty>
        ) : (
          <ul class="card-list">
            {data.runs.map((run) => (
              <li key={run.id} class="card">
                <Badge value={run.outcome ?? run.status} />
                <a href={`/runs/${run.id}`}>
                  Run #{run.id}
                </a>
                <span class="muted">
                  {formatUsd(run.usage.cost_usd, run.usage.cost_known)} · {formatAgo(run.created_at)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

/** How to talk to the agent from anything that speaks OpenAI's chat API. */
function OpenAiClients({ name }: { name: string }) {
  const baseUrl = `${window.location.origin}/v1`;
  const body = JSON.stringify({ model: name, messages: [{ role: 'user', content: 'Hello' }] });
  return (
    <details class="card openai-clients">
      <summary>Use from OpenAI clients</summary>
      <p>
        Any client of OpenAI's chat API can talk to {name}: its tools run here, the answer comes back, and the
        conversation shows in its chat.
      </p>
      <dl class="facts">
        <dt>Base URL</dt>
        <dd>
          <code>{baseUrl}</code>
        </dd>
        <dt>Model</dt>
        <dd>
          <code>{name}</code>
        </dd>
        <dt>API key</dt>
        <dd>a token from Access (any text when authentication is off)</dd>
      </dl>
      <pre class="text-block">{`curl ${baseUrl}/chat/completions \\
  -H "Authorization: Bearer $STEWARD_TOKEN" -H "Content-Type: application/json" \\
  -d '${body.replace(/'/g, "'\\''")}'`}</pre>
    </details>
  );
}

function AgentEditor({ agent, onSaved }: { agent: Agent; onSaved: () => void }) {
  const [name, setName] = useState(agent.name);
  const [goal, setGoal] = useState(agent.goal);
  const [criteria, setCriteria] = useState(agent.success_criteria.join('\n'));
  const [timeline, setTimeline] = useState(agent.timeline ?? '');
  const [model, setModel] = useState(agent.model ?? '');
  const [instructions, setInstructions] = useState(agent.instructions);
  const [daily, setDaily] = useState(agent.budget.daily_usd?.toString() ?? '');
  const [total, setTotal] = useState(agent.budget.total_usd?.toString() ?? '');
  const [error, setError] = useState<ApiError | null>(null);

  async function save(event: Event) {
    event.preventDefault();
    setError(null);
    const money = (text: string) => (text.trim() === '' ? null : Number(text));
    try {
      await patch<Agent>(`/agents/${agent.id}`, {
        name,
        goal,
        success_criteria: criteria.split('\n').map((line) => line.trim()).filter(Boolean),
        timeline: timeline.trim() === '' ? null : timeline.trim(),
        model: model.trim() === '' ? null : model.trim(),
        instructions,
        budget: { daily_usd: money(daily), total_usd: money(total) },
      });
      toast('Saved');
      onSaved();
    } catch (cause) {
      setError(cause as ApiError);
    }
  }

  return (
    <form class="card form" onSubmit={save} aria-label="Edit the agent">
      <label>
        Name
        <input value={name} onInput={(event) => setName(event.currentTarget.value)} aria-invalid={error?.field === 'name'} />
      </label>
      <label>
        Goal
        <textarea rows={2} value={goal} onInput={(event) => setGoal(event.currentTarget.value)} aria-invalid={error?.field === 'goal'} />
      </label>
      <label>
        Success criteria (one per line)
        <textarea rows={3} value={criteria} onInput={(event) => setCriteria(event.currentTarget.value)} />
      </label>
      <label>
        Timeline
        <input value={timeline} onInput={(event) => setTimeline(event.currentTarget.value)} />
      </label>
      <label>
        Model (<code>provider/model</code>; empty for the default)
        <input value={model} onInput={(event) => setModel(event.currentTarget.value)} aria-invalid={error?.field === 'model'} />
      </label>
      <label>
        Instructions
        <textarea rows={3} value={instructions} onInput={(event) => setInstructions(event.currentTarget.value)} />
      </label>
      <div class="form-row">
        <label>
          Daily budget (USD)
          <input inputMode="decimal" value={daily} onInput={(event) => setDaily(event.currentTarget.value)} aria-invalid={error?.field?.startsWith('budget')} />
        </label>
        <label>
          Total budget (USD)
          <input inputMode="decimal" value={total} onInput={(event) => setTotal(event.currentTarget.value)} aria-invalid={error?.field?.startsWith('budget')} />
        </label>
      </div>
      <ErrorNote error={error} />
      <button type="submit" class="primary">
        Save
      </button>
    </form>
  );
}
