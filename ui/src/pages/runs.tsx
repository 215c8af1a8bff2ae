// Runs, newest first, filtered by agent, status, outcome and time; filters
// can be saved by name (in this browser) and applied again in one click.

import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { ApiError, get, post } from '../api/client';
import type { Run, RunOutcome } from '../api/types';
import { agentName, agents } from '../agents';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Loading, PageHeader, toast } from '../components/ui';
import { formatAgo, formatCount, formatDuration, formatTime, formatUsd, words } from '../format';
import { about, useLiveReload } from '../live';

const OUTCOMES: RunOutcome[] = ['completed', 'failed', 'cancelled', 'budget_exceeded', 'max_steps', 'max_tokens', 'max_cost', 'max_wall_time'];
const SAVED_KEY = 'steward.saved-run-filters';

function savedFilters(): Record<string, string> {
  try {
    return JSON.parse(localStorage.getItem(SAVED_KEY) ?? '{}');
  } catch {
    return {};
  }
}

export async function cancelRun(run: Run, onDone: () => void) {
  try {
    const cancelled = await post<Run>(`/runs/${run.id}/cancel`);
    toast(cancelled.status === 'finished' ? `Run #${run.id} cancelled` : `Run #${run.id} stops at its next step`);
  } catch (cause) {
    toast((cause as ApiError).message, 'error');
  } finally {
    onDone();
  }
}

export function RunsPage() {
  const { query, route, path } = useLocation();
  const [saved, setSaved] = useState(savedFilters);
  const apiQuery = new URLSearchParams({ limit: '200' });
  if (query.agent) apiQuery.set('agent_id', query.agent);
  if (query.status) apiQuery.set('status', query.status);
  const { data, error, reload } = useData(
    (signal) => get<{ runs: Run[] }>(`/runs?${apiQuery}`, signal).then((page) => page.runs),
    [apiQuery.toString()],
  );
  useLiveReload(about('run.'), reload);

  const setQuery = (changes: Record<string, string>) => {
    const next = new URLSearchParams({ ...query, ...changes });
    for (const [key, value] of [...next.entries()]) if (!value) next.delete(key);
    const text = next.toString();
    route(text ? `${path}?${text}` : path, true);
  };
  const sinceMs = query.since ? Number(query.since) * 3600e3 : Infinity;
  const runs = (data ?? []).filter(
    (run) => (!query.outcome || run.outcome === query.outcome) && Date.now() - new Date(run.created_at).getTime() <= sinceMs,
  );
  const currentFilter = new URLSearchParams(query).toString();

  function saveFilter() {
    const name = window.prompt('Name this filter');
    if (!name?.trim()) return;
    const next = { ...saved, [name.trim()]: currentFilter };
    localStorage.setItem(SAVED_KEY, JSON.stringify(next));
    setSaved(next);
  }

  function forget(name: string) {
    const next = { ...saved };
    delete next[name];
    localStorage.setItem(SAVED_KEY, JSON.stringify(next));
    setSaved(next);
  }

  return (
    <>
      <PageHeader title="Runs" subtitle="Every agent run with its outcome, tokens and cost." />
      <div class="toolbar" role="group" aria-label="Filters">
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
          Status
          <select value={query.status ?? ''} onChange={(event) => setQuery({ status: event.currentTarget.value })}>
            <option value="">Any status</option>
            {['queued', 'running', 'awaiting_approval', 'finished'].map((status) => (
              <option key={status} value={status}>
                {words(status)}
              </option>
            ))}
          </select>
        </label>
        <label class="inline-field">
          Outcome
          <select value={query.outcome ?? ''} onChange={(event) => setQuery({ outcome: event.currentTarget.value })}>
            <option value="">Any outcome</option>
            {OUTCOMES.map((outcome) => (
              <option key={outcome} value={outcome}>
                {words(outcome)}
              </option>
            ))}
          </select>
        </label>
        <label class="inline-field">
          Started
          <select value={query.since ?? ''} onChange={(event) => setQuery({ since: event.currentTarget.value })}>
            <option value="">Any time</option>
            <option value="1">Last hour</option>
            <option value="24">Last 24 hours</option>
            <option value="168">Last 7 days</option>
          </select>
        </label>
        <button type="button" onClick={saveFilter} disabled={!currentFilter}>
          Save filter
        </button>
      </div>
      {Object.keys(saved).length > 0 && (
        <ul class="chips" aria-label="Saved filters">
          {Object.entries(saved).map(([name, filter]) => (
            <li key={name} class="chip">
              <a href={`/runs?${filter}`} aria-current={filter === currentFilter ? 'true' : undefined}>
                {name}
              </a>
              <button type="button" class="icon-button" aria-label={`Forget the filter ${name}`} onClick={() => forget(name)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <ErrorNote error={error} retry={reload} />
      {!data && !error && <Loading />}
      {data && runs.length === 0 && (
        <Empty title={data.length === 0 ? 'No runs yet' : 'No run matches the filters'}>
          <p>
            {data.length === 0
              ? 'A run starts when you schedule an action, or with `steward run AGENT "instruction"`.'
              : 'Clear a filter to see more runs.'}
          </p>
        </Empty>
      )}
      {runs.length > 0 && (
        <table class="table runs-table">
          <caption class="visually-hidden">Runs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Agent</th>
              <th scope="col">Status</th>
              <th scope="col">Steps</th>
              <th scope="col">Tokens in / out</th>
              <th scope="col">Cost</th>
              <th scope="col">Duration</th>
              <th scope="col">Started</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id}>
                <td data-label="Run">
                  <a href={`/runs/${run.id}`}>#{run.id}</a>
                  <div class="muted run-instruction" title={run.instruction}>
                    {run.instruction.slice(0, 80)}
                  </div>
                </td>
                <td data-label="Agent">{agentName(run.agent_id)}</td>
                <td data-label="Status">
                  <Badge value={run.outcome ?? run.status} />
                </td>
                <td data-label="Steps">{run.steps}</td>
                <td data-label="Tokens">
                  {formatCount(run.usage.input_tokens)} / {formatCount(run.usage.output_tokens)}
                </td>
                <td data-label="Cost">{formatUsd(run.usage.cost_usd, run.usage.cost_known)}</td>
                <td data-label="Duration">
                  {run.started_at && run.finished_at ? formatDuration(new Date(run.finished_at).getTime() - new Date(run.started_at).getTime()) : '—'}
                </td>
                <td data-label="Started">
                  <time dateTime={run.created_at} title={formatTime(run.created_at)}>
                    {formatAgo(run.created_at)}
                  </time>
                </td>
                <td>
                  {run.status !== 'finished' && (
                    <button type="button" onClick={() => void cancelRun(run, reload)}>
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {agents.value.length === 0 && data?.length === 0 && (
        <p class="muted">
          No agents yet: <a href="/agents/new">create one</a>.
        </p>
      )}
    </>
  );
}
