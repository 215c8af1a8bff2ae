// The approvals inbox: tool calls waiting for a person. Approving lets the
// tool run; rejecting needs a reason, which the agent is told.

import { useState } from 'preact/hooks';
import { ApiError, get, post } from '../api/client';
import type { Approval } from '../api/types';
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
      <PageHeader title="Approvals" subtitle="Tool calls that wait for you. The run is paused until you decide." />
      <ErrorNote error={pending.error} retry={pending.reload} />
      {!pending.data && !pending.error && <Loading />}
      {pending.data && pending.data.length === 0 && (
        <Empty title="Nothing waits for your approval">
          <p>
            Tools marked as needing approval (<code>tools.require_approval</code> in the configuration) pause their run
            here until you approve or reject the call.
          </p>
        </Empty>
      )}
      {(pending.data ?? []).map((approval) => (
        <ApprovalCard key={approval.id} approval={approval} onDecided={reload} />
      ))}
      {decided.data && decided.data.length > 0 && (
        <section aria-labelledby="decided">
          <h2 id="decided">Decided lately</h2>
          <ul class="card-list">
            {decided.data.map((approval) => (
              <li key={approval.id} class="card">
                <Badge value={approval.status} />
                <span>
                  <code>{approval.tool}</code> for <a href={`/runs/${approval.run_id}`}>run #{approval.run_id}</a>
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
          {agentName(approval.agent_id)} wants to call <code>{approval.tool}</code>
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
