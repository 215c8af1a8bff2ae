// Routines: each with its schedule, zone and destinations, its last fire
// (trigger, run, sources that could not be read, each delivery's status),
// run now, a dry-run preview (the context, the prompt, where it would
// deliver; nothing started or sent), and an edit form (`routine-edit.tsx`).

import { useState } from 'preact/hooks';
import { ApiError, get, post } from '../api/client';
import type { Routine, RoutineFire, RoutinePreview } from '../api/types';
import { agentName } from '../agents';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Json, Loading, LongText, PageHeader, toast } from '../components/ui';
import { formatTime } from '../format';
import { about, useLiveReload } from '../live';
import { RoutineEditor } from './routine-edit';

export function RoutinesPage() {
  const { data, error, reload } = useData((signal) => get<{ routines: Routine[] }>('/routines', signal).then((page) => page.routines), []);
  useLiveReload(about('routine.', 'delivery.'), reload);
  return (
    <>
      <PageHeader title="Routines" subtitle="A schedule or trigger, an agent, a prompt template, context sources and deliveries — each sent once." />
      <ErrorNote error={error} retry={reload} />
      {!data && !error && <Loading />}
      {data && data.length === 0 && (
        <Empty title="No routines yet">
          <p>
            Add one with <code>steward routine add morning --template morning-plan --agent Planner --deliver slack:@U…</code>, or{' '}
            <code>POST /api/v1/routines</code>.
          </p>
        </Empty>
      )}
      {(data ?? []).map((routine) => (
        <RoutineCard key={routine.id} routine={routine} onChanged={reload} />
      ))}
    </>
  );
}

function RoutineCard({ routine, onChanged }: { routine: Routine; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<RoutinePreview | null>(null);
  const [editing, setEditing] = useState(false);
  const run = async (dryRun: boolean) => {
    setBusy(true);
    try {
      const reply = await post<{ fire: RoutineFire | null; preview: RoutinePreview | null }>(`/routines/${routine.id}/run`, { dry_run: dryRun });
      if (dryRun) {
        setPreview(reply.preview);
      } else {
        toast(`${routine.name} fired (fire ${reply.fire?.id})`);
        onChanged();
      }
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  const fire = routine.last_fire;
  return (
    <section class="card" id={`routine-${routine.id}`} aria-labelledby={`routine-${routine.id}-name`}>
      <h2 id={`routine-${routine.id}-name`}>{routine.name}</h2>
      <p>
        {routine.schedules.length > 0 ? <code>{routine.schedules.join(', ')}</code> : 'fired by hand or trigger'} in {routine.tz}
        {routine.schedules.length > 0 && !routine.enabled ? <> <Badge value="paused" /></> : null} · agent{' '}
        <a href={`/agents/${routine.agent_id}`}>{agentName(routine.agent_id)}</a>
        {routine.after ? <> · after <code>{routine.after}</code></> : null}
      </p>
      <p class="muted">Delivers to: {routine.deliver.length > 0 ? routine.deliver.join(', ') : 'nowhere'}</p>
      <div class="toolbar" role="group" aria-label={`Commands for ${routine.name}`}>
        <button type="button" disabled={busy} onClick={() => run(false)}>Run now</button>
        <button type="button" disabled={busy} onClick={() => run(true)}>Preview</button>
        <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)}>{editing ? 'Close editor' : 'Edit'}</button>
      </div>
      {editing && (
        <RoutineEditor
          routine={routine}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      )}
      {fire ? <LastFire fire={fire} /> : <p class="muted">No fires yet.</p>}
      {preview && <Preview preview={preview} />}
    </section>
  );
}

function LastFire({ fire }: { fire: RoutineFire }) {
  return (
    <div class="routine-fire" aria-label="Last fire">
      <h3>
        Last fire {fire.id} · {fire.trigger} · {formatTime(fire.created_at)}{' '}
        {fire.run_id ? <a href={`/runs/${fire.run_id}`}>run {fire.run_id}</a> : null} <Badge value={fire.run_outcome ?? fire.run_status ?? 'none'} />
      </h3>
      {fire.missing.map((missing) => (
        <p class="error" key={missing.source}>Missing {missing.source}: {missing.reason}</p>
      ))}
      <table class="table">
        <thead>
          <tr><th>Destination</th><th>Status</th><th>Attempts</th><th>Reason</th></tr>
        </thead>
        <tbody>
          {fire.deliveries.map((delivery) => (
            <tr key={delivery.id}>
              <td>{delivery.destination}</td>
              <td><Badge value={delivery.status} /></td>
              <td>{delivery.attempts}</td>
              <td>{delivery.error ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Preview({ preview }: { preview: RoutinePreview }) {
  return (
    <div class="routine-preview" aria-label="Dry-run preview">
      <h3>Preview (nothing started, nothing sent)</h3>
      {preview.missing.map((missing) => (
        <p class="error" key={missing.source}>Missing {missing.source}: {missing.reason}</p>
      ))}
      <p>Would deliver to: {preview.destinations.length > 0 ? preview.destinations.join(', ') : 'nowhere'}</p>
      <h4>Prompt</h4>
      <LongText text={preview.prompt} limit={4000} />
      <h4>Context</h4>
      <Json value={preview.inputs} />
    </div>
  );
}
