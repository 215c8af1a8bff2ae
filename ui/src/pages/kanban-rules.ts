// Which kanban moves the server allows, so a drag can show the legal
// columns while it lasts. The server stays the judge: a move it refuses
// shows its message and the card goes back.

import type { ActionPriority, ActionState, JobState } from '../api/types';

export const ACTION_COLUMNS: ActionState[] = ['draft', 'defined', 'scheduled', 'in_progress', 'completed', 'failed', 'dismissed'];
export const JOB_COLUMNS: JobState[] = ['blocked', 'queued', 'running', 'completed', 'dead', 'cancelled'];
export const PRIORITIES: ActionPriority[] = ['urgent', 'high', 'medium', 'low'];

const OPEN: ActionState[] = ['draft', 'defined', 'scheduled', 'in_progress'];

/** The action lifecycle as `POST /actions/{id}/transition` documents it. */
export function actionMoveAllowed(from: ActionState, to: ActionState): boolean {
  if (from === to) return true;
  if (to === 'dismissed') return OPEN.includes(from) || from === 'failed';
  switch (from) {
    case 'draft':
      return to === 'defined';
    case 'defined':
      return to === 'draft' || to === 'scheduled';
    case 'scheduled':
      return to === 'defined';
    case 'failed':
      return to === 'scheduled';
    default:
      // in_progress moves on by its run; completed and dismissed are final.
      return false;
  }
}

/** Jobs move by hand only through retry (dead or cancelled → queued) and cancel. */
export function jobMoveAllowed(from: JobState, to: JobState): boolean {
  if (from === to) return true;
  if (to === 'queued') return from === 'dead' || from === 'cancelled';
  if (to === 'cancelled') return from === 'blocked' || from === 'queued' || from === 'running';
  return false;
}
