// An action as a card in a chat: its title, description, priority and mode,
// with the moves that fit its state (Define / Refine / Dismiss for a draft,
// Schedule for a defined action).

import { useState } from 'preact/hooks';
import { ApiError, post } from '../api/client';
import type { Action } from '../api/types';
import { Badge, toast } from './ui';

export function DraftCard(props: { action: Action; onChange?: (action: Action) => void; showRefine?: boolean }) {
  const [action, setAction] = useState(props.action);
  const [busy, setBusy] = useState(false);
  if (props.action.updated_at > action.updated_at) setAction(props.action);

  async function move(to: 'defined' | 'dismissed') {
    let reason: string | undefined;
    if (to === 'dismissed') {
      const answer = window.prompt('Why dismiss it? (optional; the agent sees it)');
      if (answer === null) return;
      reason = answer.trim() || undefined;
    }
    await act(() => post<Action>(`/actions/${action.id}/transition`, { to, ...(reason ? { reason } : {}) }));
  }

  async function schedule() {
    await act(async () => (await post<{ action: Action }>(`/actions/${action.id}/schedule`)).action);
  }

  async function act(change: () => Promise<Action>) {
    setBusy(true);
    try {
      const changed = await change();
      setAction(changed);
      props.onChange?.(changed);
      toast(`${changed.title}: ${changed.state.replace('_', ' ')}`);
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    } finally {
      setBusy(false);
    }
  }

  return (
    <article class="card draft-card" aria-label={`Action: ${action.title}`} data-testid="draft-card">
      <header>
        <Badge value={action.state} />
        <a href={`/actions/${action.id}`} class="draft-title">
          {action.title}
        </a>
      </header>
      {action.description && <p>{action.description}</p>}
      <p class="muted">
        {action.priority} priority · {action.mode}
      </p>
      <div class="button-row">
        {action.state === 'draft' && (
          <button type="button" class="primary" disabled={busy} onClick={() => move('defined')}>
            Define
          </button>
        )}
        {action.state === 'defined' && (
          <button type="button" class="primary" disabled={busy} onClick={schedule}>
            Schedule now
          </button>
        )}
        {props.showRefine !== false && (action.state === 'draft' || action.state === 'defined') && (
          <a class="button" href={`/actions/${action.id}`}>
            Refine
          </a>
        )}
        {['draft', 'defined', 'scheduled', 'in_progress'].includes(action.state) && (
          <button type="button" class="danger" disabled={busy} onClick={() => move('dismissed')}>
            Dismiss
          </button>
        )}
      </div>
    </article>
  );
}
