// A run's trace as a waterfall: one row per step, its bar placed by when it
// started and ended within the run. Model calls show tokens in / out /
// cached, cost, latency and stop reason; tool calls their arguments and
// result size. Each row unfolds to the step's stored content, long text
// folded. Below, the guardian's assessments of the run, if any; above, a
// live run's Pause / Resume / Cancel (`run-controls.tsx`).

import { useState } from 'preact/hooks';
import { get } from '../api/client';
import type { Approval, Assessment, Span, Trace } from '../api/types';
import { agentName } from '../agents';
import { useData } from '../components/data';
import { Badge, ErrorNote, Json, Loading, LongText, PageHeader, Stat } from '../components/ui';
import { formatCount, formatDuration, formatTime, formatUsd, words } from '../format';
import { useLiveReload } from '../live';
import { ApprovalCard } from './approvals';
import { RunControls } from './run-controls';

export function RunPage({ id }: { id: string }) {
  const { data, error, reload } = useData(
    async (signal) => {
      const [trace, approvals] = await Promise.all([
        get<Trace>(`/runs/${id}/trace`, signal),
        get<{ approvals: Approval[] }>(`/approvals?run_id=${id}&status=pending`, signal),
      ]);
      return { trace, approvals: approvals.approvals };
    },
    [id],
  );
  useLiveReload((event) => (event.subject === 'run' && String(event.subject_id) === id) || String(event.data.run_id) === id, reload);

  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading />;
  const { run, spans } = data.trace;
  const usage = run.usage;
  const duration = run.started_at ? (run.finished_at ? new Date(run.finished_at) : new Date()).getTime() - new Date(run.started_at).getTime() : null;

  return (
    <>
      <PageHeader
        title={`Run #${run.id}`}
        subtitle={
          <>
            <Badge value={run.outcome ?? run.status} /> <a href={`/agents/${run.agent_id}`}>{agentName(run.agent_id)}</a>
            {run.action_id !== null && (
              <>
                {' '}
                · for <a href={`/actions/${run.action_id}`}>action #{run.action_id}</a>
              </>
            )}{' '}
            · queued {formatTime(run.created_at)}
          </>
        }
        actions={run.status !== 'finished' && <RunControls run={run} assessments={data.trace.oversight} approvals={data.approvals} onChanged={reload} />}
      />
      {data.approvals.map((approval) => (
        <ApprovalCard key={approval.id} approval={approval} onDecided={reload} />
      ))}
      <div class="stats">
        <Stat label="cost" value={formatUsd(usage.cost_usd, usage.cost_known)} hint={usage.cost_known ? undefined : `${usage.unknown_cost_calls} calls of unknown price`} />
        <Stat label="tokens in / out" value={`${formatCount(usage.input_tokens)} / ${formatCount(usage.output_tokens)}`} hint={`${formatCount(usage.cache_read_tokens)} read from cache`} />
        <Stat label="model / tool calls" value={`${usage.model_calls} / ${usage.tool_calls}`} />
        <Stat label="duration" value={formatDuration(duration)} />
      </div>
      <section class="card">
        <h2>Instruction</h2>
        <LongText text={run.instruction} />
        {run.output && (
          <>
            <h2>Answer</h2>
            <LongText text={run.output} />
          </>
        )}
        {run.error && (
          <p class="error-note" role="note">
            {run.error}
          </p>
        )}
      </section>
      <h2>Trace</h2>
      {spans.length === 0 ? <p class="muted">No steps yet: the run is waiting for a worker.</p> : <Waterfall spans={spans} />}
      {data.trace.oversight.length > 0 && <Oversight assessments={data.trace.oversight} />}
    </>
  );
}

// The guardian's looks at the run: how aligned it was, what was decided and
// where that is, and what each look cost (oversight, not the run's own).
function Oversight({ assessments }: { assessments: Assessment[] }) {
  const cost = assessments.reduce((sum, assessment) => sum + (assessment.cost_usd ?? 0), 0);
  const known = assessments.every((assessment) => assessment.cost_usd !== null);
  return (
    <section class="card" aria-labelledby="oversight">
      <h2 id="oversight">Oversight</h2>
      <p class="muted">
        The guardian looked at this run {assessments.length} {assessments.length === 1 ? 'time' : 'times'}, for{' '}
        {formatUsd(cost, known)} (counted apart from the run's cost).
      </p>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Alignment</th>
            <th scope="col">Intervention</th>
            <th scope="col">Drift and message</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {assessments.map((assessment) => (
            <tr key={assessment.id}>
              <td>
                {formatTime(assessment.created_at)}
                <div class="muted">after {assessment.steps_seen} steps</div>
              </td>
              <td>{assessment.alignment.toFixed(2)}</td>
              <td>
                <Badge value={assessment.intervention} /> <Badge value={assessment.status} />
                {assessment.recommended !== assessment.intervention && <div class="muted">recommended {words(assessment.recommended)}</div>}
              </td>
              <td>
                {assessment.drift_reason || <span class="muted">on course</span>}
                {assessment.message && <div class="muted">“{assessment.message}”</div>}
              </td>
              <td>{formatUsd(assessment.cost_usd ?? 0, assessment.cost_usd !== null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Waterfall({ spans }: { spans: Span[] }) {
  const start = Math.min(...spans.map((span) => new Date(span.started_at).getTime()));
  const end = Math.max(...spans.map((span) => new Date(span.finished_at).getTime()));
  const total = Math.max(end - start, 1);
  return (
    <ol class="waterfall" aria-label="Steps of the run">
      <li class="waterfall-scale" aria-hidden="true">
        <span>0</span>
        <span>{formatDuration(total / 2)}</span>
        <span>{formatDuration(total)}</span>
      </li>
      {spans.map((span) => (
        <SpanRow key={span.sequence} span={span} offset={(new Date(span.started_at).getTime() - start) / total} width={Math.max(span.duration_ms / total, 0.004)} />
      ))}
    </ol>
  );
}

function SpanRow({ span, offset, width }: { span: Span; offset: number; width: number }) {
  const [open, setOpen] = useState(false);
  const model = span.model_call;
  const tool = span.tool_call;
  const summary = model
    ? `${formatCount(model.input_tokens)} in · ${formatCount(model.output_tokens)} out · ${formatCount(model.cache_read_tokens)} cached · ${formatUsd(model.cost_usd, model.cost_known)}`
    : tool
      ? `${tool.result_bytes === null ? '' : `${formatCount(tool.result_bytes)} B result`}${tool.is_error ? ' · error' : ''}`
      : '';
  return (
    <li class={`span span-${span.kind}${span.error ? ' span-error' : ''}`}>
      <button type="button" class="span-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span class="span-label">
          <span class="span-seq">{span.sequence}</span>
          <span class="span-kind">{words(span.kind)}</span>
          <span class="span-name" title={span.name}>
            {model ? model.model : span.name}
          </span>
        </span>
        <span class="span-track" aria-hidden="true">
          <span class="span-bar" style={{ left: `${(offset * 100).toFixed(2)}%`, width: `${Math.min(width * 100, 100 - offset * 100).toFixed(2)}%` }} />
        </span>
        <span class="span-numbers">
          {formatDuration(span.duration_ms)}
          {summary && <span class="muted"> · {summary}</span>}
        </span>
      </button>
      {open && (
        <div class="span-detail">
          <dl class="facts">
            <dt>Started</dt>
            <dd>{formatTime(span.started_at)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(span.duration_ms)}</dd>
            {model && (
              <>
                <dt>Model</dt>
                <dd>
                  {model.provider}/{model.model}
                </dd>
                <dt>Tokens</dt>
                <dd>
                  {formatCount(model.input_tokens)} in, {formatCount(model.output_tokens)} out, {formatCount(model.cache_read_tokens)} cache read,{' '}
                  {formatCount(model.cache_write_tokens)} cache write
                </dd>
                <dt>Cost</dt>
                <dd>{formatUsd(model.cost_usd, model.cost_known)}</dd>
                <dt>First token after</dt>
                <dd>{formatDuration(model.time_to_first_token_ms)}</dd>
                <dt>Stop reason</dt>
                <dd>{model.stop_reason ?? '—'}</dd>
              </>
            )}
            {tool && (
              <>
                <dt>Tool</dt>
                <dd>
                  <code>{tool.tool}</code>
                </dd>
                <dt>Arguments</dt>
                <dd>
                  <Json value={tool.arguments} />
                </dd>
              </>
            )}
            {span.error && (
              <>
                <dt>Error</dt>
                <dd class="error-text">{span.error}</dd>
              </>
            )}
          </dl>
          <h3>Stored content</h3>
          <Json value={span.content} limit={600} />
        </div>
      )}
    </li>
  );
}
