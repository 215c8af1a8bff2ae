// The dependency graph: jobs and what they wait for, and the actions and
// runs they execute, laid out by dagre (a layered-graph layout library).
// Blocked items are marked. Loaded on its own, as the layout library is the
// dashboard's largest dependency.

import dagre from '@dagrejs/dagre';
import { useLocation } from 'preact-iso';
import { get } from '../api/client';
import type { Action, Job } from '../api/types';
import { agentName } from '../agents';
import { useData } from '../components/data';
import { Empty, ErrorNote, Loading, PageHeader } from '../components/ui';
import { words } from '../format';
import { about, useLiveReload } from '../live';

interface Node {
  key: string;
  label: string;
  detail: string;
  state: string;
  href: string;
  blocked: boolean;
}

const NODE_WIDTH = 210;
const NODE_HEIGHT = 48;
const FINISHED = new Set(['completed', 'cancelled', 'dismissed']);

function build(jobs: Job[], actions: Action[], everything: boolean) {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  const nodes = new Map<string, Node>();
  const edges: [string, string][] = [];
  const keep = new Set<number>();
  for (const job of jobs) {
    const related = job.depends_on.length > 0 || jobs.some((other) => other.depends_on.includes(job.id)) || actions.some((action) => action.job_id === job.id);
    if (!related) continue;
    if (everything || !FINISHED.has(job.state) || jobs.some((other) => other.depends_on.includes(job.id) && !FINISHED.has(other.state))) keep.add(job.id);
  }
  for (const id of keep) {
    const job = byId.get(id);
    if (!job) continue;
    const runId = (job.payload as { run_id?: number } | null)?.run_id;
    nodes.set(`job-${id}`, {
      key: `job-${id}`,
      label: runId ? `Job #${id}: run #${runId}` : `Job #${id}: ${job.kind}`,
      detail: job.state === 'blocked' ? `blocked by ${job.pending_dependencies}` : words(job.state),
      state: job.state,
      href: `/queue/${id}`,
      blocked: job.state === 'blocked',
    });
    for (const dependency of job.depends_on) {
      if (keep.has(dependency)) edges.push([`job-${dependency}`, `job-${id}`]);
    }
  }
  for (const action of actions) {
    if (action.job_id === null || !keep.has(action.job_id)) continue;
    if (!everything && FINISHED.has(action.state)) continue;
    const job = byId.get(action.job_id);
    nodes.set(`action-${action.id}`, {
      key: `action-${action.id}`,
      label: action.title,
      detail: `${agentName(action.agent_id)} · ${words(action.state)}`,
      state: action.state,
      href: `/actions/${action.id}`,
      blocked: job?.state === 'blocked',
    });
    edges.push([`job-${action.job_id}`, `action-${action.id}`]);
  }
  return { nodes: [...nodes.values()], edges };
}

function layout(nodes: Node[], edges: [string, string][]) {
  const graph = new dagre.graphlib.Graph();
  // Left to right reads best; a phone has room downwards instead.
  const narrow = window.matchMedia('(max-width: 640px)').matches;
  graph.setGraph({ rankdir: narrow ? 'TB' : 'LR', nodesep: 18, ranksep: narrow ? 40 : 56, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.key, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const [from, to] of edges) graph.setEdge(from, to);
  dagre.layout(graph);
  const size = graph.graph();
  return {
    width: size.width ?? 0,
    height: size.height ?? 0,
    place: (key: string) => graph.node(key),
    path: (from: string, to: string) => graph.edge(from, to)?.points ?? [],
  };
}

export function GraphPage() {
  const { query, route } = useLocation();
  const everything = query.show === 'all';
  const { data, error, reload } = useData(async (signal) => {
    const [jobs, actions] = await Promise.all([
      get<{ jobs: Job[] }>('/jobs?limit=500', signal),
      get<{ actions: Action[] }>('/actions', signal),
    ]);
    return { jobs: jobs.jobs, actions: actions.actions };
  }, []);
  useLiveReload(about('job.', 'action.'), reload);

  return (
    <>
      <PageHeader title="Dependencies" subtitle="Jobs point to the jobs waiting for them, and to the actions they work on. Blocked items are dashed." />
      <div class="toolbar">
        <div class="segmented" role="radiogroup" aria-label="Which items">
          <button type="button" role="radio" aria-checked={!everything} onClick={() => route('/graph', true)}>
            Open work
          </button>
          <button type="button" role="radio" aria-checked={everything} onClick={() => route('/graph?show=all', true)}>
            Everything recent
          </button>
        </div>
      </div>
      <ErrorNote error={error} retry={reload} />
      {!data && !error && <Loading />}
      {data && <Graph jobs={data.jobs} actions={data.actions} everything={everything} />}
    </>
  );
}

function Graph({ jobs, actions, everything }: { jobs: Job[]; actions: Action[]; everything: boolean }) {
  const { nodes, edges } = build(jobs, actions, everything);
  if (nodes.length === 0) {
    return (
      <Empty title={everything ? 'No dependencies yet' : 'No open work with dependencies'}>
        <p>
          Scheduled actions and jobs enqueued with <code>depends_on</code> appear here with what they wait for.
          {!everything && (
            <>
              {' '}
              <a href="/graph?show=all">Show finished work too.</a>
            </>
          )}
        </p>
      </Empty>
    );
  }
  const placed = layout(nodes, edges);
  const blocked = nodes.filter((node) => node.blocked).length;
  return (
    <>
      <p class="muted" role="status">
        {nodes.length} items, {edges.length} links{blocked > 0 ? `, ${blocked} blocked` : ''}.
      </p>
      <div class="graph-scroll">
        <svg class="graph" width={placed.width} height={placed.height} viewBox={`0 0 ${placed.width} ${placed.height}`} role="group" aria-label="Dependency graph">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" class="graph-arrow" />
            </marker>
          </defs>
          {edges.map(([from, to]) => {
            const points = placed.path(from, to);
            return <path key={`${from}-${to}`} class="graph-edge" marker-end="url(#arrow)" d={points.map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x},${point.y}`).join(' ')} />;
          })}
          {nodes.map((node) => {
            const at = placed.place(node.key);
            return (
              <a key={node.key} href={node.href} class={`graph-node state-${node.state}${node.blocked ? ' blocked' : ''}`}>
                <title>{`${node.label}: ${node.detail}`}</title>
                <rect x={at.x - NODE_WIDTH / 2} y={at.y - NODE_HEIGHT / 2} width={NODE_WIDTH} height={NODE_HEIGHT} rx="6" />
                <text x={at.x - NODE_WIDTH / 2 + 10} y={at.y - 4} class="graph-label">
                  {node.label.length > 29 ? `${node.label.slice(0, 28)}…` : node.label}
                </text>
                <text x={at.x - NODE_WIDTH / 2 + 10} y={at.y + 14} class="graph-detail">
                  {node.detail}
                </text>
              </a>
            );
          })}
        </svg>
      </div>
    </>
  );
}
