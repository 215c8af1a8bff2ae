// One job: its state, payload and result, every attempt with its worker,
// duration and error, and retry / cancel.

import { get } from '../api/client';
import type { JobDetail } from '../api/types';
import { useData } from '../components/data';
import { Badge, ErrorNote, Json, Loading, PageHeader, Stat } from '../components/ui';
import { formatDuration, formatTime, words } from '../format';
import { useLiveReload } from '../live';
import { jobCommand } from './queue';

export function JobPage({ id }: { id: string }) {
  const { data, error, reload } = useData((signal) => get<JobDetail>(`/jobs/${id}`, signal), [id]);
  useLiveReload((event) => event.subject === 'job' && String(event.subject_id) === id, reload);
  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading />;
  const job = data;
  const runId = typeof (job.payload as { run_id?: unknown })?.run_id === 'number' ? (job.payload as { run_id: number }).run_id : null;
  return (
    <>
      <PageHeader
        title={`Job #${job.id}: ${job.kind}`}
        subtitle={
          <>
            <Badge value={job.state} /> on queue {job.queue}, priority {job.priority}
            {job.state_reason ? ` · ${words(job.state_reason)}` : ''}
            {runId !== null && (
              <>
                {' '}
                · executes <a href={`/runs/${runId}`}>run #{runId}</a>
              </>
            )}
          </>
        }
        actions={
          <>
            {(job.state === 'dead' || job.state === 'cancelled') && (
              <button type="button" class="primary" onClick={() => void jobCommand(job, 'retry', reload)}>
                Retry
              </button>
            )}
            {(job.state === 'queued' || job.state === 'blocked' || job.state === 'running') && (
              <button type="button" class="danger" onClick={() => void jobCommand(job, 'cancel', reload)}>
                Cancel
              </button>
            )}
          </>
        }
      />
      <div class="stats">
        <Stat label="attempts" value={`${job.attempts} of ${job.max_attempts}`} />
        <Stat label="waited" value={formatDuration(job.timings.wait_ms)} />
        <Stat label="ran" value={formatDuration(job.timings.run_ms)} />
        <Stat label="in total" value={formatDuration(job.timings.total_ms)} />
      </div>
      {job.depends_on.length > 0 && (
        <p>
          Depends on{' '}
          {job.depends_on.map((dependency, index) => (
            <span key={dependency}>
              {index > 0 && ', '}
              <a href={`/queue/${dependency}`}>#{dependency}</a>
            </span>
          ))}
          {job.pending_dependencies > 0 && ` (${job.pending_dependencies} not completed yet)`} · <a href="/graph">see the graph</a>
        </p>
      )}
      {job.last_error && <p class="error-note">{job.last_error}</p>}
      <section aria-labelledby="attempts">
        <h2 id="attempts">Attempts</h2>
        {job.attempt_history.length === 0 ? (
          <p class="muted">Not started yet{job.state === 'queued' ? `; due ${formatTime(job.run_at)}` : ''}.</p>
        ) : (
          <table class="table">
            <caption class="visually-hidden">Attempts, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">Attempt</th>
                <th scope="col">Outcome</th>
                <th scope="col">Started</th>
                <th scope="col">Took</th>
                <th scope="col">Worker</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {job.attempt_history.map((attempt, index) => (
                <tr key={index}>
                  <td data-label="Attempt">{attempt.attempt}</td>
                  <td data-label="Outcome">
                    <Badge value={attempt.outcome} />
                  </td>
                  <td data-label="Started">{formatTime(attempt.started_at)}</td>
                  <td data-label="Took">{formatDuration(attempt.duration_ms)}</td>
                  <td data-label="Worker">{attempt.worker ?? '—'}</td>
                  <td data-label="Error" class="error-text">
                    {attempt.error ?? ''}
                    {attempt.retry_at ? ` (retry at ${formatTime(attempt.retry_at)})` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <div class="two-columns">
        <section class="card">
          <h2>Payload</h2>
          <Json value={job.payload} />
        </section>
        <section class="card">
          <h2>Result</h2>
          {job.result === null ? <p class="muted">none yet</p> : <Json value={job.result} />}
        </section>
      </div>
    </>
  );
}
