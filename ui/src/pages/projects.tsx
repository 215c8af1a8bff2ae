// Spec-driven projects: each project's phase, the document waiting at its
// gate (approve it, or send it back with a comment for the agent to
// revise; the same gate waits in the approvals inbox, which links here as
// /projects#project-ID), the task graph with each task's state, rounds and the
// validator's feedback, and "Run" once the tasks are approved (it resumes:
// done tasks are never run again); an approved document edited as JSON
// re-plans only the tasks the change affects; each project's settings
// (whether discovered tasks need approval, its check commands) and its
// guardian policy (`project-guardian.tsx`) edited in place; and the open
// flags of duplicate work, each merged (one item kept) or kept both, with a
// scan on demand.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, patch, post } from '../api/client';
import type { Duplicate, Project, ProjectDocument, ProjectTask } from '../api/types';
import { agentName } from '../agents';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Json, Loading, PageHeader, toast } from '../components/ui';
import { formatTime } from '../format';
import { about, useLiveReload } from '../live';
import { GuardianPolicyForm } from './project-guardian';

const PHASES = ['requirements', 'design', 'tasks', 'execution', 'validation', 'done'];

export function ProjectsPage() {
  const { data, error, reload } = useData((signal) => get<{ projects: Project[] }>('/projects', signal).then((page) => page.projects), []);
  useLiveReload(about('project.'), reload);
  return (
    <>
      <PageHeader title="Projects" subtitle="A brief becomes requirements, a design and a task graph — each approved at its gate — then validated work." />
      <ErrorNote error={error} retry={reload} />
      {!data && !error && <Loading />}
      {data && data.length === 0 && (
        <Empty title="No projects yet">
          <p>
            Start one with <code>steward project new "Title" --brief "…" --agent AGENT</code>, or import a spec-kit or Kiro folder with{' '}
            <code>steward project import DIR</code>; for small work, <code>steward project quick "…"</code> writes the three documents in one go.
          </p>
        </Empty>
      )}
      <Duplicates />
      {(data ?? []).map((listed) => (
        <ProjectCard key={listed.id} id={listed.id} />
      ))}
    </>
  );
}

/** The open flags of duplicate work (actions and tasks): merge one into the other, or keep both. */
function Duplicates() {
  const { data, error, reload } = useData(
    (signal) => get<{ duplicates: Duplicate[] }>('/duplicates?status=open', signal).then((page) => page.duplicates),
    [],
  );
  useLiveReload(about('duplicate.', 'project.', 'action.'), reload);
  const [busy, setBusy] = useState(false);
  const act = async (work: () => Promise<string>) => {
    setBusy(true);
    try {
      toast(await work());
      reload();
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  const scan = () =>
    act(async () => {
      const found = await post<{ duplicates: Duplicate[] }>('/duplicates/scan');
      return found.duplicates.length ? `${found.duplicates.length} new duplicate(s) flagged` : 'No new duplicates';
    });
  return (
    <section class="card" aria-label="Duplicate work">
      <div class="agent-card-head">
        <h2>Duplicate work</h2>
        <button type="button" disabled={busy} onClick={scan}>
          Scan for duplicates
        </button>
      </div>
      <ErrorNote error={error} retry={reload} />
      {data && data.length === 0 && <p class="muted">No open flags: nothing planned twice that Steward can see.</p>}
      {data && data.length > 0 && (
        <table class="table">
          <caption>Open flags of duplicate work</caption>
          <thead>
            <tr>
              <th scope="col">Items</th>
              <th scope="col">Why</th>
              <th scope="col">Decide</th>
            </tr>
          </thead>
          <tbody>
            {data.map((flag) => (
              <tr key={flag.id} aria-label={`flag ${flag.id}: ${flag.first} and ${flag.second}`}>
                <td>
                  {flag.kind} <code>{flag.first}</code> {flag.first_title}
                  <br />
                  {flag.kind} <code>{flag.second}</code> {flag.second_title}
                </td>
                <td>{flag.why}</td>
                <td>
                  <div class="button-row">
                    {[flag.first, flag.second].map((kept) => (
                      <button
                        key={kept}
                        type="button"
                        disabled={busy}
                        onClick={() => act(() => post(`/duplicates/${flag.id}/merge`, { keep: kept }).then(() => `Merged: kept ${kept}`))}
                      >
                        Keep {kept}, drop the other
                      </button>
                    ))}
                    <button type="button" disabled={busy} onClick={() => act(() => post(`/duplicates/${flag.id}/keep`).then(() => 'Kept both'))}>
                      Keep both
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** One project, read whole (the list leaves out documents and tasks). */
function ProjectCard({ id }: { id: number }) {
  const { data: project, error, reload } = useData((signal) => get<Project>(`/projects/${id}`, signal), [id]);
  useLiveReload(about('project.'), reload);
  const loaded = project !== undefined;
  useEffect(() => {
    // The inbox links to a project as /projects#project-ID; the card exists only once loaded.
    if (loaded && window.location.hash === `#project-${id}`) document.getElementById(`project-${id}`)?.scrollIntoView();
  }, [loaded, id]);
  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!project) return <Loading />;
  const proposed = project.documents.filter((document) => document.status === 'proposed');
  const waiting = proposed[0];
  const done = project.tasks.filter((task) => task.state === 'done').length;
  const runnable = (project.phase === 'execution' || project.phase === 'validation') && done < project.tasks.length;
  return (
    <section class="card" id={`project-${project.id}`} aria-label={project.title}>
      <div class="agent-card-head">
        <h2>{project.title}</h2>
        <Badge value={project.phase} />
      </div>
      <p class="muted">
        Phase {PHASES.indexOf(project.phase) + 1} of {PHASES.length} · agent {project.agent_id ? agentName(project.agent_id) : 'none (documents proposed by hand)'}
        {project.validator_id ? ` · validator ${agentName(project.validator_id)}` : ''} · {done} of {project.tasks.length} tasks done · updated {formatTime(project.updated_at)}
        {project.repository ? ` · ${project.repository}` : ''}
      </p>
      {project.brief && <p>{project.brief}</p>}
      <p class="muted">
        Discovered tasks: {project.discovered_tasks === 'allow' ? 'join the graph at once' : 'need a person\'s approval'} · checks:{' '}
        {project.checks.length ? project.checks.map((check) => <code key={check}>{check} </code>) : 'none'}
      </p>
      {project.failure && <p class="error-text">The agent's last attempt failed: {project.failure}</p>}
      {waiting ? (
        <Gate project={project} documents={proposed} onDecided={reload} />
      ) : (
        project.phase !== 'done' && !runnable && <p class="muted">Nothing waits at the {project.phase} gate yet.</p>
      )}
      {project.tasks.length > 0 && <TaskTable project={project} runnable={runnable} onRun={reload} />}
      <Settings project={project} onSaved={reload} />
      <GuardianPolicyForm project={project} onSaved={reload} />
      <EditApproved project={project} onEdited={reload} />
      <History documents={project.documents} />
    </section>
  );
}

/** The gate of the current phase; a quick project's three documents wait at it together and are decided together. */
function Gate({ project, documents, onDecided }: { project: Project; documents: ProjectDocument[]; onDecided: () => void }) {
  const document = documents[0];
  const together = documents.length > 1;
  const what = together ? documents.map((waiting) => waiting.phase).join(', ') : document.phase;
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const decide = async (approve: boolean) => {
    setBusy(true);
    try {
      if (approve) {
        await post(`/projects/${project.id}/approve`);
        toast(`${project.title}: ${what} approved`);
      } else {
        await post(`/projects/${project.id}/reject`, { comment });
        toast(`${project.title}: ${what} sent back`);
        setComment('');
      }
      onDecided();
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" aria-label={`${document.phase} gate`} onSubmit={(event) => event.preventDefault()}>
      {together ? (
        <>
          <h3>
            Waiting together at one gate (the light path): {what}, version {document.version}
          </h3>
          {documents.map((waiting) => (
            <div key={waiting.phase}>
              <h4>{waiting.phase}</h4>
              <Json value={waiting.document} />
            </div>
          ))}
        </>
      ) : (
        <>
          <h3>
            Waiting at the {document.phase} gate: version {document.version}
          </h3>
          <Json value={document.document} />
        </>
      )}
      <label>
        Comment (sends it back for a revision)
        <textarea name="comment" rows={2} value={comment} onInput={(event) => setComment(event.currentTarget.value)} />
      </label>
      <div class="button-row">
        <button type="button" class="primary" disabled={busy} onClick={() => decide(true)}>
          Approve
        </button>
        <button type="button" disabled={busy || comment.trim() === ''} onClick={() => decide(false)}>
          Send back
        </button>
      </div>
    </form>
  );
}

function TaskTable({ project, runnable, onRun }: { project: Project; runnable: boolean; onRun: () => void }) {
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      await post(`/projects/${project.id}/run`);
      toast(`${project.title}: tasks queued`);
      onRun();
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <table class="table">
        <caption>Tasks of {project.title}</caption>
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">State</th>
            <th scope="col">After</th>
            <th scope="col">Serves</th>
            <th scope="col">Done when</th>
            <th scope="col">Rounds</th>
            <th scope="col">Run</th>
          </tr>
        </thead>
        <tbody>
          {project.tasks.map((task: ProjectTask) => (
            <tr key={task.id}>
              <td>
                <code>{task.id}</code> {task.title}
                {task.parallel ? ' [P]' : ''}
                {task.feedback && <div class="muted">Validator: {task.feedback}</div>}
              </td>
              <td>
                <Badge value={task.state} />
              </td>
              <td>{task.depends_on.length ? task.depends_on.join(', ') : '—'}</td>
              <td>{task.requirements.join(', ') || '—'}</td>
              <td>{task.done_when}</td>
              <td>{task.rounds}</td>
              <td>{task.run_id ? <a href={`/runs/${task.run_id}`}>run #{task.run_id}</a> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runnable && (
        <div class="button-row">
          <button type="button" class="primary" disabled={busy} onClick={run}>
            Run
          </button>
        </div>
      )}
    </>
  );
}

/** A project's settings: whether discovered tasks need approval, and its check commands. */
function Settings({ project, onSaved }: { project: Project; onSaved: () => void }) {
  const [discovered, setDiscovered] = useState(project.discovered_tasks);
  const [checks, setChecks] = useState(project.checks.join('\n'));
  const [busy, setBusy] = useState(false);
  const save = async () => {
    setBusy(true);
    try {
      const lines = checks
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '');
      await patch(`/projects/${project.id}`, { discovered_tasks: discovered, checks: lines });
      toast(`${project.title}: settings saved`);
      onSaved();
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <details>
      <summary>Settings</summary>
      <form class="form" aria-label={`settings of ${project.title}`} onSubmit={(event) => event.preventDefault()}>
        <label>
          Tasks an agent discovers
          <select name="discovered_tasks" value={discovered} onChange={(event) => setDiscovered(event.currentTarget.value)}>
            <option value="approve">need a person's approval</option>
            <option value="allow">join the graph at once</option>
          </select>
        </label>
        <label>
          Check commands, one a line (run in a task's workspace after the validator passes it)
          <textarea name="checks" rows={3} value={checks} onInput={(event) => setChecks(event.currentTarget.value)} />
        </label>
        <div class="button-row">
          <button type="button" class="primary" disabled={busy} onClick={save}>
            Save settings
          </button>
        </div>
      </form>
    </details>
  );
}

/** The latest approved version of each document phase. */
function latestApproved(documents: ProjectDocument[]): ProjectDocument[] {
  const latest = new Map<string, ProjectDocument>();
  for (const document of documents) {
    const known = latest.get(document.phase);
    if (document.status === 'approved' && (!known || known.version < document.version)) latest.set(document.phase, document);
  }
  return ['requirements', 'design', 'tasks'].flatMap((phase) => latest.get(phase) ?? []);
}

/** Replaces an approved document with an edited version; only the tasks it affects are re-planned. */
function EditApproved({ project, onEdited }: { project: Project; onEdited: () => void }) {
  const approved = latestApproved(project.documents);
  const [phase, setPhase] = useState('');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  if (approved.length === 0) return null;
  const choose = (chosen: string) => {
    setPhase(chosen);
    const document = approved.find((candidate) => candidate.phase === chosen);
    setText(document ? JSON.stringify(document.document, null, 2) : '');
  };
  const save = async () => {
    setBusy(true);
    try {
      const document = JSON.parse(text);
      await post(`/projects/${project.id}/edit`, { phase, document });
      toast(`${project.title}: ${phase} edited; the tasks it affects are re-planned`);
      setPhase('');
      onEdited();
    } catch (cause) {
      toast(cause instanceof SyntaxError ? `Not JSON: ${cause.message}` : (cause as ApiError).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <details>
      <summary>Edit an approved document</summary>
      <form class="form" aria-label="edit an approved document" onSubmit={(event) => event.preventDefault()}>
        <label>
          Document
          <select name="phase" value={phase} onChange={(event) => choose(event.currentTarget.value)}>
            <option value="">Choose…</option>
            {approved.map((document) => (
              <option key={document.phase} value={document.phase}>
                {document.phase} (v{document.version})
              </option>
            ))}
          </select>
        </label>
        {phase && (
          <>
            <label>
              The edited document (JSON; requirement and task ids are how the change is compared)
              <textarea name="document" rows={12} value={text} onInput={(event) => setText(event.currentTarget.value)} />
            </label>
            <div class="button-row">
              <button type="button" class="primary" disabled={busy} onClick={save}>
                Save the edit
              </button>
            </div>
          </>
        )}
      </form>
    </details>
  );
}

function History({ documents }: { documents: ProjectDocument[] }) {
  const decided = documents.filter((document) => document.status !== 'proposed');
  if (decided.length === 0) return null;
  return (
    <details>
      <summary>Decided documents ({decided.length})</summary>
      <ul>
        {decided.map((document) => (
          <li key={`${document.phase}-${document.version}`}>
            {document.phase} v{document.version}: {document.status}
            {document.decided_at ? ` ${formatTime(document.decided_at)}` : ''}
            {document.comment ? ` — “${document.comment}”` : ''}
          </li>
        ))}
      </ul>
    </details>
  );
}
