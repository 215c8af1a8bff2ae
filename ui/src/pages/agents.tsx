// Agents: each with its goal, status, liveness (active, idle, stuck,
// failed), cost and actions done of total.

import { get } from '../api/client';
import type { AgentMetrics } from '../api/types';
import { agents, agentsLoaded } from '../agents';
import { useData } from '../components/data';
import { Badge, Empty, Loading, PageHeader } from '../components/ui';
import { formatUsd } from '../format';
import { about, useLiveReload } from '../live';

export function AgentsPage() {
  const list = agents.value;
  const ids = list.map((agent) => agent.id).join(',');
  const metrics = useData(async (signal) => {
    const entries = await Promise.all(
      list.map(async (agent) => [agent.id, await get<AgentMetrics>(`/agents/${agent.id}/metrics`, signal)] as const),
    );
    return new Map(entries);
  }, [ids]);
  useLiveReload(about('run.finished', 'action.transitioned', 'message.'), metrics.reload);

  const live = list.filter((agent) => agent.status !== 'archived');
  const archived = list.filter((agent) => agent.status === 'archived');
  return (
    <>
      <PageHeader
        title="Agents"
        subtitle="Each agent works toward one goal, one concrete action at a time."
        actions={
          <a class="button primary" href="/agents/new">
            New agent
          </a>
        }
      />
      {!agentsLoaded.value && <Loading />}
      {agentsLoaded.value && live.length === 0 && (
        <Empty title="No agents yet">
          <p>
            <a href="/agents/new">Create one through a short chat</a>: it asks for the goal, how success is judged and a
            timeline. (<code>steward agent new</code> does the same in a terminal.)
          </p>
        </Empty>
      )}
      <ul class="agent-grid">
        {live.map((agent) => {
          const metric = metrics.data?.get(agent.id);
          const share = metric && metric.actions_total > 0 ? metric.actions_completed / metric.actions_total : 0;
          return (
            <li key={agent.id} class="card agent-card">
              <div class="agent-card-head">
                <h2>
                  <a href={`/agents/${agent.id}`}>{agent.name}</a>
                </h2>
                <span class="agent-card-badges">
                  <Badge value={agent.status} />
                  {agent.liveness && <Badge value={agent.liveness.state} title={agent.liveness.reason} />}
                </span>
              </div>
              <p class="goal">{agent.goal}</p>
              {agent.timeline && <p class="muted">Timeline: {agent.timeline}</p>}
              <div class="progress" role="img" aria-label={metric ? `${metric.actions_completed} of ${metric.actions_total} actions done` : 'actions loading'}>
                <div class="progress-bar" style={{ width: `${Math.round(share * 100)}%` }} />
              </div>
              <p class="agent-card-numbers">
                <span>{metric ? `${metric.actions_completed} of ${metric.actions_total} actions done` : '…'}</span>
                <span>{metric ? `${formatUsd(metric.cost_usd_total, metric.unknown_cost_calls === 0)} spent` : ''}</span>
              </p>
              <p class="agent-card-links">
                <a href={`/agents/${agent.id}/chat`}>Chat</a>
                <a href={`/kanban?agent=${agent.id}`}>Actions</a>
                <a href={`/runs?agent=${agent.id}`}>Runs</a>
              </p>
            </li>
          );
        })}
      </ul>
      {archived.length > 0 && (
        <details class="archived">
          <summary>Archived agents ({archived.length})</summary>
          <ul class="plain-list">
            {archived.map((agent) => (
              <li key={agent.id}>
                <a href={`/agents/${agent.id}`}>{agent.name}</a> <span class="muted">— {agent.goal}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
