// Home: what needs the person (approvals waiting, failed runs and dead
// jobs, drafts to review) and what agents did today and what it cost.

import { get } from '../api/client';
import type { Action, Agent, AgentMetrics, Approval, Health, Job, Run, Schedule } from '../api/types';
import { agentName } from '../agents';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Loading, PageHeader, Stat } from '../components/ui';
import { formatAgo, formatTime, formatUsd, words } from '../format';
import { about, useLiveReload } from '../live';
import { approvalSummary } from './approvals';
import { describeTarget } from './schedules';

interface HomeData {
  approvals: Approval[];
  failedRuns: Run[];
  todayRuns: Run[];
  drafts: Action[];
  failedActions: Action[];
  upcoming: Action[];
  /** Active schedules, soonest fire first (a few). */
  nextFires: Schedule[];
  deadJobs: Job[];
  health: Health;
  metrics: Map<number, AgentMetrics>;
  /** Active and paused. */
  agents: Agent[];
}

function startOfLocalDay(): number {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
}

async function loadHome(signal: AbortSignal): Promise<HomeData> {
  // The page reads the agents itself, so it is drawn after one round of requests.
  const [approvals, runs, drafts, failedActions, upcoming, deadJobs, health, live, schedules] = await Promise.all([
    get<{ approvals: Approval[] }>('/approvals?status=pending', signal),
    get<{ runs: Run[] }>('/runs?limit=200', signal),
    get<{ actions: Action[] }>('/actions?state=draft', signal),
    get<{ actions: Action[] }>('/actions?state=failed', signal),
    get<{ actions: Action[] }>('/actions?state=scheduled,in_progress', signal),
    get<{ jobs: Job[] }>('/jobs?state=dead&limit=20', signal),
    get<Health>('/health', signal),
    get<{ agents: Agent[] }>('/agents', signal),
    get<{ schedules: Schedule[] }>('/schedules', signal),
  ]);
  const today = startOfLocalDay();
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  const metrics = new Map<number, AgentMetrics>();
  await Promise.all(
    live.agents.map(async (agent) => {
      try {
        metrics.set(agent.id, await get<AgentMetrics>(`/agents/${agent.id}/metrics`, signal));
      } catch {
        // One agent's numbers missing does not hide the page.
      }
    }),
  );
  return {
    approvals: approvals.approvals,
    failedRuns: runs.runs.filter(
      (run) => run.status === 'finished' && run.outcome !== 'completed' && run.outcome !== 'cancelled' &&
        new Date(run.finished_at ?? run.updated_at).getTime() >= dayAgo,
    ),
    todayRuns: runs.runs.filter((run) => new Date(run.created_at).getTime() >= today),
    drafts: drafts.actions,
    failedActions: failedActions.actions,
    upcoming: upcoming.actions,
    nextFires: schedules.schedules
      .filter((schedule) => !schedule.paused && schedule.next_fire_at !== null)
      .sort((a, b) => Date.parse(a.next_fire_at ?? '') - Date.parse(b.next_fire_at ?? ''))
      .slice(0, 5),
    deadJobs: deadJobs.jobs,
    health,
    metrics,
    agents: live.agents,
  };
}

export function Home() {
  const { data, error, reload } = useData(loadHome, []);
  useLiveReload(about('approval.', 'run.', 'action.', 'job.dead', 'job.died', 'agent.', 'schedule.'), reload);

  return (
    <>
      <PageHeader title="Home" subtitle="What needs you, and what your agents did today." />
      <ErrorNote error={error} retry={reload} />
      {!data && !error && <Loading />}
      {data && <HomeContent data={data} />}
    </>
  );
}

function HomeContent({ data }: { data: HomeData }) {
  const needs = data.approvals.length + data.failedRuns.length + data.drafts.length + data.failedActions.length + data.deadJobs.length;
  const costToday = [...data.metrics.values()].reduce((sum, metric) => sum + metric.cost_usd_today, 0);
  const unknownToday = [...data.metrics.values()].some((metric) => metric.unknown_cost_calls_today > 0);
  const completedToday = data.todayRuns.filter((run) => run.outcome === 'completed').length;
  const liveAgents = data.agents;

  return (
    <>
      <section aria-labelledby="needs-you">
        <h2 id="needs-you">Needs you {needs > 0 && <span class="count">{needs}</span>}</h2>
        {needs === 0 ? (
          <Empty title="Nothing needs you right now">
            {liveAgents.length === 0 ? (
              <p>
                Start by <a href="/agents/new">creating an agent</a>: a short chat draws out its goal.
              </p>
            ) : (
              <p>
                Approvals, failed runs and drafts to review appear here. <a href={`/agents/${liveAgents[0].id}/chat`}>Chat with {liveAgents[0].name}</a> to get a next action proposed.
              </p>
            )}
          </Empty>
        ) : (
          <ul class="card-list">
            {data.approvals.map((approval) => (
              <li key={`approval-${approval.id}`} class="card needs">
                <Badge value="awaiting_approval" />
                <a href={`/approvals#approval-${approval.id}`}>{approvalSummary(approval)}</a>
                <span class="muted">{formatAgo(approval.created_at)}</span>
              </li>
            ))}
            {data.failedRuns.map((run) => (
              <li key={`run-${run.id}`} class="card needs">
                <Badge value={run.outcome ?? 'failed'} />
                <a href={`/runs/${run.id}`}>
                  Run #{run.id} of {agentName(run.agent_id)} ended: {words(run.outcome ?? '')}
                </a>
                <span class="muted">{run.error ?? ''}</span>
              </li>
            ))}
            {data.failedActions.map((action) => (
              <li key={`failed-${action.id}`} class="card needs">
                <Badge value="failed" />
                <a href={`/actions/${action.id}`}>{action.title}</a>
                <span class="muted">failed; schedule it again or dismiss it</span>
              </li>
            ))}
            {data.drafts.map((action) => (
              <li key={`draft-${action.id}`} class="card needs">
                <Badge value="draft" />
                <a href={`/actions/${action.id}`}>{action.title}</a>
                <span class="muted">draft by {agentName(action.agent_id)} to review: define, refine or dismiss</span>
              </li>
            ))}
            {data.deadJobs.map((job) => (
              <li key={`job-${job.id}`} class="card needs">
                <Badge value="dead" />
                <a href={`/queue/${job.id}`}>
                  Job #{job.id} ({job.kind}) died
                </a>
                <span class="muted">{job.last_error ?? ''}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="today">
        <h2 id="today">Today</h2>
        <div class="stats">
          <Stat label="spent today" value={formatUsd(costToday, !unknownToday)} hint="model calls of runs and chats" />
          <Stat label="runs started" value={data.todayRuns.length} />
          <Stat label="runs completed" value={completedToday} />
          <Stat label="jobs waiting" value={data.health.jobs.queued + data.health.jobs.blocked} />
        </div>
        {liveAgents.length === 0 ? (
          <Empty title="No agents yet">
            <p>
              <a href="/agents/new">Create an agent</a>; what it does and costs each day shows here.
            </p>
          </Empty>
        ) : (
          <table class="table">
            <caption class="visually-hidden">What each agent did today</caption>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Runs today</th>
                <th scope="col">Spent today</th>
                <th scope="col">Daily budget</th>
                <th scope="col">Actions done</th>
              </tr>
            </thead>
            <tbody>
              {liveAgents.map((agent) => {
                const metric = data.metrics.get(agent.id);
                return (
                  <tr key={agent.id}>
                    <td data-label="Agent">
                      <a href={`/agents/${agent.id}`}>{agent.name}</a> {agent.status === 'paused' && <Badge value="paused" />}
                    </td>
                    <td data-label="Runs today">{data.todayRuns.filter((run) => run.agent_id === agent.id).length}</td>
                    <td data-label="Spent today">{metric ? formatUsd(metric.cost_usd_today, metric.unknown_cost_calls_today === 0) : '—'}</td>
                    <td data-label="Daily budget">{agent.budget.daily_usd === null ? 'none' : formatUsd(agent.budget.daily_usd)}</td>
                    <td data-label="Actions done">{metric ? `${metric.actions_completed} of ${metric.actions_total}` : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="next">
        <h2 id="next">Scheduled and in progress</h2>
        {data.upcoming.length === 0 && data.nextFires.length === 0 ? (
          <Empty title="Nothing is scheduled">
            <p>
              Define a draft action and schedule it, or add a <a href="/schedules">schedule</a>; the next fires show here.
            </p>
          </Empty>
        ) : (
          <ul class="card-list">
            {data.nextFires.map((schedule) => (
              <li key={`schedule-${schedule.id}`} class="card">
                <Badge value="scheduled" />
                <a href="/schedules">{schedule.name}</a>
                <span class="muted">
                  <time dateTime={schedule.next_fire_at ?? undefined}>{formatTime(schedule.next_fire_at)}</time> · {describeTarget(schedule.target)}
                </span>
              </li>
            ))}
            {data.upcoming.map((action) => (
              <li key={action.id} class="card">
                <Badge value={action.state} />
                <a href={`/actions/${action.id}`}>{action.title}</a>
                <span class="muted">
                  {agentName(action.agent_id)}
                  {action.scheduled_for ? ` · for ${formatTime(action.scheduled_for)}` : ''}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
