// A routine's edit form: its when (empty: fired by hand), agent, zone,
// prompt template, calendars, priorities file, destinations, and whether
// its schedules run. Only what changed is sent (`PATCH /routines/{id}`);
// destinations are sent as the ones added and removed, so a secret URL
// shown masked is kept as stored. The server changes all of it or nothing
// and names a refused field.

import { useState } from 'preact/hooks';
import { ApiError, patch } from '../api/client';
import type { Routine } from '../api/types';
import { agents } from '../agents';
import { ErrorNote, toast } from '../components/ui';

const lines = (text: string) => text.split('\n').map((line) => line.trim()).filter(Boolean);

// The request for what differs from `routine`.
function changes(routine: Routine, form: Record<string, string | boolean>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const when = (form.when as string).trim();
  if (when !== (routine.schedules[0] ?? '')) body.when = when === '' ? null : when;
  if (Number(form.agent) !== routine.agent_id) body.agent_id = Number(form.agent);
  if ((form.tz as string).trim() !== routine.tz) body.tz = (form.tz as string).trim();
  if (form.text !== routine.template) body.text = form.text;
  const sources: Record<string, unknown> = {};
  const calendars = lines(form.calendars as string);
  if (calendars.join('\n') !== ((routine.sources.calendars as string[] | undefined) ?? []).join('\n')) sources.calendars = calendars;
  const priorities = (form.priorities as string).trim();
  if (priorities !== ((routine.sources.priorities as string | null | undefined) ?? '')) sources.priorities = priorities === '' ? null : priorities;
  if (Object.keys(sources).length > 0) body.sources = sources;
  const deliver = lines(form.deliver as string);
  const added = deliver.filter((uri) => !routine.deliver.includes(uri));
  const removed = routine.deliver.filter((uri) => !deliver.includes(uri));
  if (added.length > 0) body.add_deliver = added;
  if (removed.length > 0) body.remove_deliver = removed;
  if (form.enabled !== routine.enabled && routine.schedules.length > 0) body.enabled = form.enabled;
  return body;
}

export function RoutineEditor({ routine, onSaved }: { routine: Routine; onSaved: () => void }) {
  const [form, setForm] = useState<Record<string, string | boolean>>({
    when: routine.schedules[0] ?? '',
    agent: String(routine.agent_id),
    tz: routine.tz,
    text: routine.template,
    calendars: ((routine.sources.calendars as string[] | undefined) ?? []).join('\n'),
    priorities: (routine.sources.priorities as string | null | undefined) ?? '',
    deliver: routine.deliver.join('\n'),
    enabled: routine.enabled,
  });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: string) => (event: Event) => {
    const target = event.currentTarget as HTMLInputElement;
    setForm({ ...form, [field]: target.type === 'checkbox' ? target.checked : target.value });
  };
  const invalid = (field: string) => error?.field === field || Boolean(error?.field?.startsWith(`${field}[`));

  async function save(event: Event) {
    event.preventDefault();
    setError(null);
    const body = changes(routine, form);
    if (Object.keys(body).length === 0) {
      toast('Nothing changed');
      return;
    }
    setBusy(true);
    try {
      await patch<Routine>(`/routines/${routine.id}`, body);
      toast(`${routine.name} saved`);
      onSaved();
    } catch (cause) {
      setError(cause as ApiError);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="form routine-edit" onSubmit={save} aria-label={`Edit ${routine.name}`}>
      <div class="form-row">
        <label>
          When (empty: fired by hand)
          <input value={form.when as string} onInput={set('when')} placeholder="weekdays at 08:00" aria-invalid={invalid('when')} />
        </label>
        <label>
          Zone
          <input value={form.tz as string} onInput={set('tz')} aria-invalid={invalid('tz')} />
        </label>
        <label>
          Agent
          <select value={form.agent as string} onChange={set('agent')} aria-invalid={invalid('agent')}>
            {agents.value
              .filter((agent) => agent.status !== 'archived' || agent.id === routine.agent_id)
              .map((agent) => (
                <option key={agent.id} value={String(agent.id)}>{agent.name}</option>
              ))}
          </select>
        </label>
      </div>
      <label>
        Prompt template
        <textarea rows={6} value={form.text as string} onInput={set('text')} aria-invalid={invalid('text')} />
      </label>
      <label>
        Calendars (one file or URL per line)
        <textarea rows={2} value={form.calendars as string} onInput={set('calendars')} aria-invalid={invalid('sources')} />
      </label>
      <label>
        Priorities file
        <input value={form.priorities as string} onInput={set('priorities')} aria-invalid={invalid('sources')} />
      </label>
      <label>
        Delivers to (one destination per line)
        <textarea rows={3} value={form.deliver as string} onInput={set('deliver')} aria-invalid={invalid('add_deliver') || invalid('remove_deliver')} />
      </label>
      {routine.schedules.length > 0 && (
        <label class="checkbox">
          <input type="checkbox" checked={form.enabled as boolean} onChange={set('enabled')} /> Its schedule runs (unticked: paused)
        </label>
      )}
      <ErrorNote error={error} />
      <button type="submit" class="primary" disabled={busy}>Save</button>
    </form>
  );
}
