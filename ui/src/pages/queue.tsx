// The durable queue: jobs by state and queue with their counts; a job's
// page shows its attempts and errors.

import { useLocation } from 'preact-iso';
import { ApiError, get, post } from '../api/client';
import type { Job, JobCounts } from '../api/types';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Loading, PageHeader, toast } from '../components/ui';
import { formatAgo, formatTime, words } from '../format';
import { about, useLiveReload } from '../live';
import { JOB_COLUMNS } from './kanban-rules';

export async function jobCommand(job: Job, command: 'retry' | 'cancel', onDone: () => void) {
  try {
    await post<Job>(`/jobs/${job.id}/${command}`);
    toast(command === 'retry' ? `Job #${job.id} queued again` : `Job #${job.id} cancelled`);
  } catch (cause) {
    toast((cause as ApiError).message, 'error');
  } finally {
    onDone();
  }
}

export function QueuePage() {
  const { query, route, path } = useLocation();
  const params = new URLSearchParams({ limit: '100' });
  if (query.state) params.set('state', query.state);
  if (query.queue) params.set('queue', query.queue);
  const { data, error, reload } = useData((signal) => get<{ jobs: Job[]; counts: JobCounts; next_before: number | null }>(`/jobs?${params}`, signal), [params.toString()]);
  useLiveReload(about('job.'), reload);
  const setQuery = (changes: Record<string, string>) => {
    const next = new URLSearchParams({ ...query, ...changes });
    for (const [key, value] of [...next.entries()]) if (!value) next.delete(key);
    const text = next.toString();
    route(text ? `${path}?${text}` : path, true);
  };
  const queues = [...new Set((data?.jobs ?? []).map((job) => job.queue).concat(query.queue ? [query.queue] : []))].sort();

  return (
    <>
      <PageHeader title="Queue" subtitle="Every piece of work is a durable job: retried with backoff, never lost." />
      {data && (
        <div class="stats" role="group" aria-label="Jobs by state">
          {JOB_COLUMNS.map((state) => (
            <a key={state} class={`stat stat-link${query.state === state ? ' selected' : ''}`} href={query.state === state ? '/queue' : `/queue?state=${state}`} aria-current={query.state === state ? 'true' : undefined}>
              <span class="stat-value">{data.counts[state]}</span>
              <span class="stat-label">{words(state)}</span>
            </a>
          ))}
        </div>
      )}
      <div class="toolbar" role="group" aria-label="Filters">
        <label class="inline-field">
          Queue
          <select value={query.queue ?? ''} onChange={(event) => setQuery({ queue: event.currentTarget.value })}>
            <option value="">All queues</option>
            {queues.map((queue) => (
              <option key={queue} value={queue}>
                {queue}
              </option>
            ))}
          </select>
        </label>
        <a href="/kanban?mode=jobs">See as a board</a>
      </div>
      <ErrorNote error={error} retry={reload} />
      {!data && !error && <Loading />}
      {data && data.jobs.length === 0 && (
        <Empty title={query.state ? `No ${words(query.state)} jobs` : 'The queue is empty'}>
          <p>Runs and scheduled actions become jobs here; so does <code>steward job enqueue KIND</code>.</p>
        </Empty>
      )}
      {data && data.jobs.length > 0 && (
        <table class="table">
          <caption class="visually-hidden">Jobs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Queue</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last error</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span class="visually-hidden">Commands</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.jobs.map((job) => (
              <tr key={job.id}>
                <td data-label="Job">
                  <a href={`/queue/${job.id}`}>
                    #{job.id} {job.kind}
                  </a>
                </td>
                <td data-label="Queue">{job.queue}</td>
                <td data-label="State">
                  <Badge value={job.state} title={job.state_reason ?? undefined} />
                </td>
                <td data-label="Attempts">
                  {job.attempts} of {job.max_attempts}
                </td>
                <td data-label="Last error" class="error-text">
                  {job.last_error ?? ''}
                </td>
                <td data-label="Updated">
                  <time dateTime={job.updated_at} title={formatTime(job.updated_at)}>
                    {formatAgo(job.updated_at)}
                  </time>
                </td>
                <td>
                  {(job.state === 'dead' || job.state === 'cancelled') && (
                    <button type="button" onClick={() => void jobCommand(job, 'retry', reload)}>
                      Retry
                    </button>
                  )}
                  {(job.state === 'queued' || job.state === 'blocked' || job.state === 'running') && (
                    <button type="button" onClick={() => void jobCommand(job, 'cancel', reload)}>
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
