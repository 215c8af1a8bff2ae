// The timeline: the event log, newest first, growing live from the event
// stream; filtered by type, agent and time; each entry links to its subject.

import { useLocation } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get } from '../api/client';
import type { StewardEvent } from '../api/types';
import { agentName, agents } from '../agents';
import { Empty, ErrorNote, PageHeader } from '../components/ui';
import { formatAgo, formatTime } from '../format';
import { describeEvent, eventAgent, subjectLink } from '../links';
import { onEvent } from '../live';

const TYPES = ['agent', 'action', 'run', 'approval', 'job', 'conversation', 'artifact', 'message'];
const WINDOWS: [string, string, number][] = [
  ['hour', 'Last hour', 3600e3],
  ['day', 'Last 24 hours', 24 * 3600e3],
  ['week', 'Last 7 days', 7 * 24 * 3600e3],
  ['', 'Any time', Infinity],
];
const PAGE = 300;

export function TimelinePage() {
  const { query, route, path } = useLocation();
  const [events, setEvents] = useState<StewardEvent[]>([]);
  const [oldest, setOldest] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loaded, setLoaded] = useState(false);

  async function loadWindow(before: number | null) {
    try {
      const { id: latest } = before === null ? await get<{ id: number | null }>('/events/latest') : { id: before - 1 };
      if (latest === null) {
        setLoaded(true);
        return;
      }
      const after = Math.max(0, latest - PAGE);
      const page = await get<{ events: StewardEvent[] }>(`/events?after=${after}&limit=${PAGE}`);
      const inWindow = page.events.filter((event) => event.id <= latest);
      setEvents((current) => {
        const known = new Set(current.map((event) => event.id));
        return [...current, ...inWindow.filter((event) => !known.has(event.id))].sort((a, b) => b.id - a.id);
      });
      setOldest(after);
      setError(null);
    } catch (cause) {
      setError(cause as ApiError);
    } finally {
      setLoaded(true);
    }
  }

  useEffect(() => {
    void loadWindow(null);
    return onEvent((event) =>
      setEvents((current) => (current.some((known) => known.id === event.id) ? current : [event, ...current])),
    );
  }, []);

  const setQuery = (changes: Record<string, string>) => {
    const next = new URLSearchParams({ ...query, ...changes });
    for (const [key, value] of [...next.entries()]) if (!value) next.delete(key);
    const text = next.toString();
    route(text ? `${path}?${text}` : path, true);
  };
  const windowMs = WINDOWS.find(([key]) => key === (query.within ?? ''))?.[2] ?? Infinity;
  const now = Date.now();
  const shown = events.filter(
    (event) =>
      (!query.type || event.kind.startsWith(`${query.type}.`)) &&
      (!query.agent || String(eventAgent(event)) === query.agent) &&
      now - new Date(event.occurred_at).getTime() <= windowMs,
  );

  return (
    <>
      <PageHeader title="Timeline" subtitle="Every state change, as it happens. Times are in your time zone." />
      <div class="toolbar" role="group" aria-label="Filters">
        <label class="inline-field">
          Type
          <select value={query.type ?? ''} onChange={(event) => setQuery({ type: event.currentTarget.value })}>
            <option value="">All types</option>
            {TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </label>
        <label class="inline-field">
          Agent
          <select value={query.agent ?? ''} onChange={(event) => setQuery({ agent: event.currentTarget.value })}>
            <option value="">All agents</option>
            {agents.value.map((agent) => (
              <option key={agent.id} value={String(agent.id)}>
                {agent.name}
              </option>
            ))}
          </select>
        </label>
        <label class="inline-field">
          Time
          <select value={query.within ?? ''} onChange={(event) => setQuery({ within: event.currentTarget.value })}>
            {WINDOWS.map(([key, label]) => (
              <option key={key} value={key}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote error={error} retry={() => void loadWindow(null)} />
      {loaded && shown.length === 0 && (
        <Empty title={events.length === 0 ? 'No events yet' : 'No event matches the filters'}>
          <p>
            {events.length === 0
              ? 'Everything that changes — agents, actions, runs, jobs — appears here live. Create an agent or enqueue a job to see it.'
              : 'Widen the time window or clear a filter.'}
          </p>
        </Empty>
      )}
      <ol class="timeline" aria-label="Events, newest first">
        {shown.map((event) => {
          const link = subjectLink(event);
          const agent = eventAgent(event);
          return (
            <li key={event.id} class={`timeline-entry kind-${event.kind.split('.')[0]}`}>
              <time dateTime={event.occurred_at} title={formatTime(event.occurred_at)}>
                {formatAgo(event.occurred_at)}
              </time>
              <code class="event-kind">{event.kind}</code>
              <span class="event-text">{link ? <a href={link}>{describeEvent(event)}</a> : describeEvent(event)}</span>
              {agent !== null && <span class="muted event-agent">{agentName(agent)}</span>}
            </li>
          );
        })}
      </ol>
      {oldest !== null && oldest > 0 && (
        <button type="button" onClick={() => void loadWindow(oldest + 1)}>
          Load older events
        </button>
      )}
    </>
  );
}
