// The approvals inbox: tool calls and projects' phase gates waiting for a
// person. Approving lets the tool run; rejecting needs a reason, which the
// agent is told. A gate's document is approved (the project moves on) or
// sent back with a comment for a revision, as on the Projects page.

import { useState } from 'preact/hooks';
import { ApiError, get, post } from '../api/client';
import type { Approval, GateArguments } from '../api/types';
import { agentName } from '../agents';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Json, Loading, PageHeader, toast } from '../components/ui';
import { formatAgo, formatTime } from '../format';
import { about, useLiveReload } from '../live';

export function ApprovalsPage() {
  const pending = useData((signal) => get<{ approvals: Approval[] }>('/approvals?status=pending', signal).then((page) => page.approvals), []);
  const decided = useData(
    (signal) => get<{ approvals: Approval[] }>('/approvals?status=approved,rejected,withdrawn', signal).then((page) => page.approvals.slice(-20).reverse()),
    [],
  );
  const reload = () => {
    pending.reload();
    decided.reload();
  };
  useLiveReload(about('approval.', 'run.finished'), reload);

  return (
    <>
      <PageHeader title="Approvals" subtitle="Tool calls and project gates that wait for you. The run, or the project, waits until you decide." />
      <ErrorNote error={pending.error} retry={pending.reload} />
      {!pending.data && !pending.error && <Loading />}
      {pending.data && pending.data.length === 0 && (
        <Empty title="Nothing waits for your approval">
          <p>
            Tools marked as needing approval (<code>tools.require_approval</code> in the configuration) pause their run
            here until you approve or reject the call, and a project's document waits here at each manual phase gate.
          </p>
        </Empty>
      )}
      {(pending.data ?? []).map((approval) =>
        isGate(approval) ? (
          <GateCard key={approval.id} approval={approval} onDecided={reload} />
        ) : (
          <ApprovalCard key={approval.id} approval={approval} onDecided={reload} />
        ),
      )}
      {decided.data && decided.data.length > 0 && (
        <section aria-labelledby="decided">
          <h2 id="decided">Decided lately</h2>
          <ul class="card-list">
            {decided.data.map((approval) => (
              <li key={approval.id} class="card">
                <Badge value={approval.status} />
                <span>
                  {isGate(approval) ? (
                    <>
                      the {gateWhat(approval)} of <a href={projectHref(approval)}>{gate(approval).title}</a>
                    </>
                  ) : (
                    <>
                      <code>{approval.tool}</code> for <a href={`/runs/${approval.run_id}`}>run #{approval.run_id}</a>
                    </>
                  )}
                </span>
                <span class="muted">
                  {approval.reason ? `“${approval.reason}” · ` : ''}
                  {formatAgo(approval.decided_at)}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

/** A project's phase gate rather than a run's tool call. */
export function isGate(approval: Approval): boolean {
  return approval.tool === 'project.gate' && approval.project_id !== null;
}

function gate(approval: Approval): GateArguments {
  return approval.arguments as GateArguments;
}

/** "requirements document, version 2", or the light path's three together. */
function gateWhat(approval: Approval): string {
  const { phase, version, phases } = gate(approval);
  const what = phases && phases.length > 1 ? `${phases.join(', ')} documents` : `${phase} document`;
  return `${what}, version ${version}`;
}

function projectHref(approval: Approval): string {
  return `/projects#project-${approval.project_id}`;
}

/** One line saying what waits: a gate's project and phase, or who wants which tool. */
export function approvalSummary(approval: Approval): string {
  if (isGate(approval)) return `${gate(approval).title}: the ${gateWhat(approval)} waits at its gate`;
  return `${approval.agent_id ? agentName(approval.agent_id) : 'An agent'} wants to call ${approval.tool}`;
}

/** A document waiting at a project's gate: approve it, or send it back with a comment for a revision. */
function GateCard({ approval, onDecided }: { approval: Approval; onDecided: () => void }) {
  const { title, phase } = gate(approval);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function decide(approve: boolean) {
    setBusy(true);
    setError(null);
    try {
      if (approve) await post(`/approvals/${approval.id}/approve`, {});
      else await post(`/approvals/${approval.id}/reject`, { reason: comment });
      toast(approve ? `${title}: ${phase} approved; the project moves on` : `${title}: ${phase} sent back for a revision`);
      onDecided();
    } catch (cause) {
      setError(cause as ApiError);
    } finally {
      setBusy(false);
    }
  }

  return (
    <article id={`approval-${approval.id}`} class="card approval" aria-label={`Approval ${approval.id}: ${title} ${phase} gate`} data-testid="approval">
      <header>
        <Badge value={approval.status} />
        <strong>
          The {gateWhat(approval)} of <a href={projectHref(approval)}>{title}</a> waits at its gate
        </strong>
        <span class="muted">
          {approval.agent_id ? `written by ${agentName(approval.agent_id)}` : 'proposed by hand'} · asked {formatTime(approval.created_at)}
        </span>
      </header>
      <p class="muted">
        Read it on the <a href={projectHref(approval)}>project's page</a>. Approving lets the project into its next phase.
      </p>
      <form class="approval-form" onSubmit={(event) => event.preventDefault()}>
        <label for={`comment-${approval.id}`}>Comment (sends it back for a revision)</label>
        <textarea
          id={`comment-${approval.id}`}
          rows={2}
          value={comment}
          aria-invalid={error?.field === 'reason'}
          onInput={(event) => setComment(event.currentTarget.value)}
        />
        <div class="button-row">
          <button type="button" class="primary" disabled={busy} onClick={() => void decide(true)}>
            Approve
          </button>
          <button type="button" disabled={busy || !comment.trim()} onClick={() => void decide(false)}>
            Send back
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
    </article>
  );
}

export function ApprovalCard({ approval, onDecided }: { approval: Approval; onDecided: () => void }) {
  const [reason, setReason] = useState('');
  const [rejecting, setRejecting] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function decide(approve: boolean) {
    setBusy(true);
    setError(null);
    try {
      if (approve) await post(`/approvals/${approval.id}/approve`, reason.trim() ? { reason: reason.trim() } : {});
      else await post(`/approvals/${approval.id}/reject`, { reason });
      toast(approve ? `Approved ${approval.tool}; the run carries on` : `Rejected ${approval.tool}; the agent is told why`);
      onDecided();
    } catch (cause) {
      setError(cause as ApiError);
    } finally {
      setBusy(false);
    }
  }

  return (
    <article id={`approval-${approval.id}`} class="card approval" aria-label={`Approval ${approval.id}: ${approval.tool}`} data-testid="approval">
      <header>
        <Badge value={approval.status} />
        <strong>
          {approval.agent_id ? agentName(approval.agent_id) : 'An agent'} wants to call <code>{approval.tool}</code>
        </strong>
        <span class="muted">
          <a href={`/runs/${approval.run_id}`}>run #{approval.run_id}</a> · asked {formatTime(approval.created_at)}
        </span>
      </header>
      <Json value={approval.arguments} />
      <form
        class="approval-form"
        onSubmit={(event) => {
          event.preventDefault();
          void decide(!rejecting);
        }}
      >
        <label for={`reason-${approval.id}`}>{rejecting ? 'Why reject it? (the agent is told)' : 'Reason (optional)'}</label>
        <input
          id={`reason-${approval.id}`}
          value={reason}
          required={rejecting}
          aria-invalid={error?.field === 'reason'}
          onInput={(event) => setReason(event.currentTarget.value)}
        />
        <div class="button-row">
          {rejecting ? (
            <>
              <button type="submit" class="danger" disabled={busy || !reason.trim()}>
                Reject with this reason
              </button>
              <button type="button" onClick={() => setRejecting(false)}>
                Back
              </button>
            </>
          ) : (
            <>
              <button type="submit" class="primary" disabled={busy}>
                Approve
              </button>
              <button type="button" class="danger" onClick={() => setRejecting(true)}>
                Reject…
              </button>
            </>
          )}
        </div>
      </form>
      <ErrorNote error={error} />
    </article>
  );
}
