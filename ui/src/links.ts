// Where in the dashboard an event's subject lives.

import type { StewardEvent } from './api/types';

export function subjectLink(event: StewardEvent): string | null {
  const data = event.data ?? {};
  switch (event.subject) {
    case 'agent':
      return `/agents/${event.subject_id}`;
    case 'action':
      return `/actions/${event.subject_id}`;
    case 'run':
      return `/runs/${event.subject_id}`;
    case 'job':
      return `/queue/${event.subject_id}`;
    case 'approval':
      return `/approvals#approval-${event.subject_id}`;
    case 'schedule':
      return `/schedules#schedule-${event.subject_id}`;
    case 'artifact':
      if (typeof data.action_id === 'number') return `/actions/${data.action_id}`;
      if (typeof data.run_id === 'number') return `/runs/${data.run_id}`;
      return null;
    case 'conversation':
      if (typeof data.action_id === 'number') return `/actions/${data.action_id}`;
      if (typeof data.agent_id === 'number' && data.kind === 'agent') return `/agents/${data.agent_id}/chat`;
      if (typeof data.agent_id === 'number') return `/agents/${data.agent_id}`;
      return null;
    default:
      return null;
  }
}

/** The agent an event concerns, when it says. */
export function eventAgent(event: StewardEvent): number | null {
  if (event.subject === 'agent') return event.subject_id;
  const id = event.data?.agent_id;
  return typeof id === 'number' ? id : null;
}

/** A one-line account of an event, for people. */
export function describeEvent(event: StewardEvent): string {
  const data = event.data ?? {};
  const text = (key: string) => (typeof data[key] === 'string' || typeof data[key] === 'number' ? String(data[key]) : null);
  const from = text('from');
  const to = text('to');
  const subject = `${event.subject} #${event.subject_id}`;
  switch (event.kind) {
    case 'action.transitioned':
      return `${subject} moved ${from ?? '?'} → ${to ?? '?'}${text('reason') ? ` (${text('reason')})` : ''}`;
    case 'run.finished':
      return `${subject} finished: ${text('outcome') ?? '?'}${text('error') ? ` — ${text('error')}` : ''}`;
    case 'run.step':
      return `${subject} step ${text('sequence') ?? '?'}: ${text('kind') ?? ''} ${text('name') ?? ''}`;
    case 'approval.requested':
      return `${subject}: run #${text('run_id') ?? '?'} asks to call ${text('tool') ?? 'a tool'}`;
    case 'approval.decided':
      return `${subject} ${text('status') ?? text('to') ?? 'decided'}`;
    case 'message.created':
      return `${text('role') === 'assistant' ? 'The agent replied' : 'A message was sent'} in conversation #${event.subject_id}`;
    default: {
      const detail = [from && to ? `${from} → ${to}` : null, text('error')].filter(Boolean).join(' ');
      return `${subject} ${event.kind.split('.').slice(1).join('.')}${detail ? `: ${detail}` : ''}`;
    }
  }
}
