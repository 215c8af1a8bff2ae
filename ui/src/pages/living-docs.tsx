// Living documentation: where a repository's ARCHITECTURE.md and DESIGN.md
// stand (last sync, commits not folded in yet, proposals waiting), and a
// sync started by an agent. The repository is a folder on the server's
// machine, kept in the address (?repo=) so the page can be bookmarked.

import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { get, post } from '../api/client';
import type { SyncStatus } from '../api/types';
import { agents } from '../agents';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Loading, PageHeader, toast } from '../components/ui';
import { formatTime } from '../format';
import { about, useLiveReload } from '../live';

export function LivingDocsPage() {
  const { query, route } = useLocation();
  const repo = query.repo ?? '';
  const [typed, setTyped] = useState(repo);
  const show = (event: Event) => {
    event.preventDefault();
    route(`/living-docs?repo=${encodeURIComponent(typed.trim())}`);
  };
  return (
    <>
      <PageHeader title="Living docs" subtitle="Architecture documents an agent keeps current from a repository's commits." />
      <form class="toolbar" onSubmit={show}>
        <label>
          Repository <input name="repo" required value={typed} onInput={(e) => setTyped(e.currentTarget.value)} placeholder="/home/me/src/app" />
        </label>
        <button type="submit">Show</button>
      </form>
      {repo ? (
        <RepoStatus repo={repo} />
      ) : (
        <Empty title="Name a repository">
          <p>
            A folder inside a git working tree on the server's machine. Install the hook with <code>steward sync install-hook REPO --agent AGENT</code>.
          </p>
        </Empty>
      )}
    </>
  );
}

function RepoStatus({ repo }: { repo: string }) {
  const { data, error, reload } = useData((signal) => get<SyncStatus>(`/sync/status?repo=${encodeURIComponent(repo)}`, signal), [repo]);
  useLiveReload(about('job.'), reload);
  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading />;
  return (
    <section aria-label="Documents">
      <p class="muted">
        {data.repo} · HEAD {data.head ? data.head.slice(0, 7) : '(no commits)'} · hook {data.hook_installed ? 'installed' : 'not installed'} ·{' '}
        {data.changelog_entries} in CHANGELOG_RECENT.md
      </p>
      <table class="table">
        <caption>Documents of {data.repo}</caption>
        <thead>
          <tr>
            <th scope="col">Document</th>
            <th scope="col">Last sync</th>
            <th scope="col">At commit</th>
            <th scope="col">Folded in</th>
            <th scope="col">Not yet</th>
            <th scope="col">Proposal</th>
          </tr>
        </thead>
        <tbody>
          {data.documents.map((document) => (
            <tr key={document.document}>
              <td>{document.exists ? document.document : `${document.document} (missing)`}</td>
              <td>{document.last_sync ? formatTime(document.last_sync) : 'never'}</td>
              <td>{document.last_commit ? <code>{document.last_commit.slice(0, 7)}</code> : '—'}</td>
              <td>{document.commits_since_sync ?? '—'}</td>
              <td>{document.pending_commits}</td>
              <td>{document.proposal_pending ? <Badge value="pending" title="steward sync apply" /> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <SyncNow repo={data.repo} />
    </section>
  );
}

function SyncNow({ repo }: { repo: string }) {
  const [agentId, setAgentId] = useState('');
  const [apply, setApply] = useState(false);
  const [busy, setBusy] = useState(false);
  const start = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const queued = await post<{ job: { id: number } }>('/sync/runs', { repo, agent_id: Number(agentId), apply });
      toast(`Sync started as job #${queued.job.id}`);
    } catch (error) {
      toast(error instanceof Error ? error.message : String(error), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="toolbar" onSubmit={start} aria-label="Sync now">
      <label>
        Agent{' '}
        <select name="agent" required value={agentId} onChange={(e) => setAgentId(e.currentTarget.value)}>
          <option value="">Choose…</option>
          {agents.value.map((agent) => (
            <option key={agent.id} value={agent.id}>
              {agent.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <input type="checkbox" checked={apply} onChange={(e) => setApply(e.currentTarget.checked)} /> Apply at once
      </label>
      <button type="submit" disabled={busy || !agentId}>
        Sync now
      </button>
    </form>
  );
}
