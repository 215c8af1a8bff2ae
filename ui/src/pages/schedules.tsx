// Schedules: each with its *when*, zone and next fire (in its zone and
// here), pause/resume and run now, and the history of its recorded slots.

import { useState } from 'preact/hooks';
import { ApiError, get, post } from '../api/client';
import type { Schedule, ScheduleFire, ScheduleTarget } from '../api/types';
import { agentName } from '../agents';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Loading, PageHeader, toast } from '../components/ui';
import { formatTime } from '../format';
import { about, useLiveReload } from '../live';

/** What a fire starts, in words, with links. */
export function describeTarget(target: ScheduleTarget) {
  switch (target.kind) {
    case 'agent':
      return <>a run of <a href={`/agents/${target.agent_id}`}>{agentName(target.agent_id)}</a>: “{target.instruction}”</>;
    case 'action':
      return <>a run on <a href={`/actions/${target.action_id}`}>action #{target.action_id}</a></>;
    case 'routine':
      return <>routine <code>{target.routine}</code></>;
    case 'job':
      return <>a <code>{target.job}</code> job</>;
  }
}

function state(schedule: Schedule) {
  if (schedule.paused) return 'paused';
  return schedule.next_fire_at ? 'active' : 'done';
}

async function command(schedule: Schedule, verb: 'pause' | 'resume' | 'run', onDone: () => void) {
  try {
    await post(`/schedules/${schedule.id}/${verb}`);
    toast(verb === 'run' ? `${schedule.name} fired now` : `${schedule.name} ${verb === 'pause' ? 'paused' : 'resumed'}`);
  } catch (cause) {
    toast((cause as ApiError).message, 'error');
  } finally {
    onDone();
  }
}

export function SchedulesPage() {
  const { data, error, reload } = useData((signal) => get<{ schedules: Schedule[] }>('/schedules', signal).then((page) => page.schedules), []);
  useLiveReload(about('schedule.'), reload);
  return (
    <>
      <PageHeader title="Schedules" subtitle="Each slot fires once, across restarts and servers; missed and overlapping fires follow each schedule's policies." />
      <ErrorNote error={error} retry={reload} />
      {!data && !error && <Loading />}
      {data && data.length === 0 && (
        <Empty title="No schedules yet">
          <p>
            Add one with <code>steward schedule add standup --when "weekdays at 09:00" --agent Scribe --instruction "…"</code>, or{' '}
            <code>POST /api/v1/schedules</code>.
          </p>
        </Empty>
      )}
      {(data ?? []).map((schedule) => (
        <ScheduleCard key={schedule.id} schedule={schedule} onChanged={reload} />
      ))}
    </>
  );
}

function ScheduleCard({ schedule, onChanged }: { schedule: Schedule; onChanged: () => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const run = (verb: 'pause' | 'resume' | 'run') => {
    setBusy(true);
    command(schedule, verb, () => {
      setBusy(false);
      onChanged();
    });
  };
  return (
    <section class="card" id={`schedule-${schedule.id}`} aria-labelledby={`schedule-${schedule.id}-name`}>
      <h2 id={`schedule-${schedule.id}-name`}>
        {schedule.name} <Badge value={state(schedule)} />
      </h2>
      <p>
        <code>{schedule.when}</code> in {schedule.tz} · starts {describeTarget(schedule.target)}
      </p>
      <p class="muted">
        Next fire:{' '}
        {schedule.next_fire_local ? (
          <>
            <time dateTime={schedule.next_fire_at ?? undefined}>{schedule.next_fire_local}</time> ({formatTime(schedule.next_fire_at)} here)
          </>
        ) : (
          'never again'
        )}{' '}
        · missed: {schedule.missed} · overlap: {schedule.overlap}
        {schedule.consecutive_failures > 0 ? ` · ${schedule.consecutive_failures} failed in a row` : ''}
      </p>
      <div class="toolbar" role="group" aria-label={`Commands for ${schedule.name}`}>
        {schedule.paused ? (
          <button type="button" disabled={busy} onClick={() => run('resume')}>Resume</button>
        ) : (
          <button type="button" disabled={busy} onClick={() => run('pause')}>Pause</button>
        )}
        <button type="button" disabled={busy} onClick={() => run('run')}>Run now</button>
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>{open ? 'Hide history' : 'History'}</button>
      </div>
      {open && <History schedule={schedule} />}
    </section>
  );
}

function History({ schedule }: { schedule: Schedule }) {
  const { data, error, reload } = useData((signal) => get<{ fires: ScheduleFire[] }>(`/schedules/${schedule.id}/fires?limit=50`, signal).then((page) => page.fires), [schedule.id, schedule.updated_at]);
  useLiveReload(about('schedule.', 'job.'), reload);
  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading />;
  if (data.length === 0) return <p class="muted">Not fired yet.</p>;
  return (
    <table class="table">
      <caption>Recorded slots of {schedule.name}, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Slot</th>
          <th scope="col">Fired</th>
          <th scope="col">Status</th>
          <th scope="col">Work</th>
          <th scope="col">Outcome</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {data.map((fire) => (
          <tr key={fire.slot}>
            <td>{formatTime(fire.slot)}</td>
            <td>{formatTime(fire.fired_at)}</td>
            <td>
              <Badge value={fire.status} />
            </td>
            <td>
              {fire.run_id ? <a href={`/runs/${fire.run_id}`}>run #{fire.run_id}</a> : fire.job_id ? <a href={`/queue/${fire.job_id}`}>job #{fire.job_id}</a> : '—'}
            </td>
            <td>{fire.outcome ?? '—'}</td>
            <td class="muted">{fire.detail ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
