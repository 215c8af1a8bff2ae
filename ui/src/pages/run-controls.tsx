// Pause, Resume and Cancel for a live run, on its page. Pause applies a
// pause the guardian proposed (`POST /runs/{id}/intervene`): the run holds
// at its next model call, waiting for a person. Resume lets a run the
// guardian holds go on. Cancel asks first, then applies the guardian's
// waiting pause or cancel (so its assessment records it), or cancels the
// run outright. Each answer's run state is said at once; the page then
// follows the run's events.

import { useState } from 'preact/hooks';
import { ApiError, post } from '../api/client';
import type { Approval, Assessment, Intervened, Run } from '../api/types';
import { toast } from '../components/ui';
import { words } from '../format';

/** The approvals a guardian's hold waits on. */
const HOLDS = ['oversight.pause', 'oversight.cancel'];

/** Where a live run stands with the guardian, from its assessments and pending approvals. */
export function oversightState(run: Run, assessments: Assessment[], approvals: Approval[]) {
  const held = approvals.find((approval) => approval.status === 'pending' && HOLDS.includes(approval.tool)) ?? null;
  const proposedPause = assessments.some((assessment) => assessment.status === 'proposed' && assessment.intervention === 'pause');
  // What a person's cancel can apply: a proposed pause or cancel, or a cancel waiting for a person.
  const waiting = assessments.some(
    (assessment) =>
      ['pause', 'cancel'].includes(assessment.intervention) &&
      (assessment.status === 'proposed' || (assessment.needs_person && assessment.status === 'pending')),
  );
  const pausing = !held && run.status === 'running' && assessments.some((assessment) => assessment.intervention === 'pause' && assessment.status === 'pending');
  return { held, proposedPause, waiting, pausing };
}

/** How the run stands now, in words, for the toast after an action. */
function standing(run: Run): string {
  if (run.status === 'finished') return words(run.outcome ?? 'finished');
  if (run.status === 'awaiting_approval') return 'waiting for a person';
  return words(run.status);
}

export function RunControls(props: { run: Run; assessments: Assessment[]; approvals: Approval[]; onChanged: () => void }) {
  const { run, onChanged } = props;
  const [busy, setBusy] = useState(false);
  if (run.status === 'finished') return null;
  const { held, proposedPause, waiting, pausing } = oversightState(run, props.assessments, props.approvals);

  const act = async (work: () => Promise<string>) => {
    setBusy(true);
    try {
      toast(await work());
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    } finally {
      setBusy(false);
      onChanged();
    }
  };
  const intervene = (intervention: string) => post<Intervened>(`/runs/${run.id}/intervene`, { intervention });
  const pause = () =>
    act(async () => {
      const done = await intervene('pause');
      return `Run #${run.id} pauses at its next model call (now ${standing(done.run)})`;
    });
  const resume = () =>
    act(async () => {
      const done = await intervene('resume');
      return `Run #${run.id} resumed (now ${standing(done.run)})`;
    });
  const cancel = () => {
    const question = run.cancel_requested
      ? `Stop run #${run.id} now, without waiting for its current step?`
      : `Cancel run #${run.id}? It stops and cannot be resumed; what it has done so far is kept.`;
    if (!window.confirm(question)) return;
    void act(async () => {
      const after = waiting ? (await intervene('cancel')).run : await post<Run>(`/runs/${run.id}/cancel`);
      return after.status === 'finished' ? `Run #${run.id} cancelled` : `Run #${run.id} stops at its next step (now ${standing(after)})`;
    });
  };

  return (
    <div class="run-controls">
      <div class="button-row">
        {held ? (
          <button type="button" class="primary" disabled={busy} onClick={() => void resume()}>
            Resume
          </button>
        ) : (
          <button
            type="button"
            disabled={busy || !proposedPause}
            aria-describedby={proposedPause ? undefined : `pause-why-${run.id}`}
            onClick={() => void pause()}
          >
            {pausing ? 'Pausing…' : 'Pause'}
          </button>
        )}
        <button type="button" class="danger" disabled={busy} onClick={cancel}>
          {run.cancel_requested ? 'Stop now' : 'Cancel run'}
        </button>
      </div>
      <p class="hint" id={`pause-why-${run.id}`} role="status">
        {held
          ? `Held by the guardian (${held.tool === 'oversight.cancel' ? 'it asks to cancel' : 'paused'}): resume it, or cancel it.`
          : pausing
            ? 'Pausing: the run holds at its next model call.'
            : proposedPause
              ? 'The guardian proposes a pause.'
              : 'Pause applies a pause the guardian proposes; it proposes none now.'}
      </p>
    </div>
  );
}
