// The live event stream: one connection to /api/v1/events/stream for the
// whole dashboard. After a disconnect it reconnects with backoff and resumes
// with `Last-Event-ID`, so no event is missed; pages subscribe to the events
// they care about and reload what those events change.

import { signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { API, readEvents } from './api/client';
import type { StewardEvent } from './api/types';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

export const liveStatus = signal<LiveStatus>('connecting');
/** The newest events received, newest last (the timeline's live tail). */
export const recentEvents = signal<StewardEvent[]>([]);

const RECENT_LIMIT = 500;
const listeners = new Set<(event: StewardEvent) => void>();
let lastEventId: number | null = null;
let started = false;

export function onEvent(listener: (event: StewardEvent) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function deliver(event: StewardEvent) {
  lastEventId = event.id;
  const recent = recentEvents.value;
  recentEvents.value = recent.length >= RECENT_LIMIT ? [...recent.slice(1), event] : [...recent, event];
  for (const listener of listeners) listener(event);
}

async function connectOnce(): Promise<void> {
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (lastEventId !== null) headers['Last-Event-ID'] = String(lastEventId);
  const response = await fetch(`${API}/events/stream`, { headers });
  if (!response.ok || !response.body) throw new Error(`event stream answered ${response.status}`);
  liveStatus.value = 'live';
  await readEvents(response.body, ({ data }) => {
    try {
      deliver(JSON.parse(data) as StewardEvent);
    } catch {
      // A malformed event is skipped; the next one carries on.
    }
  });
}

/** Starts the stream (once); it runs for the page's lifetime. */
export function startLiveEvents() {
  if (started) return;
  started = true;
  void (async () => {
    let delay = 500;
    for (;;) {
      try {
        await connectOnce();
        delay = 500;
      } catch {
        // Reconnect below.
      }
      liveStatus.value = 'reconnecting';
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  })();
}

/**
 * Calls `reload` (debounced) whenever an event matching `matches` arrives,
 * and when the stream reconnects (events may have been missed meanwhile).
 */
export function useLiveReload(matches: (event: StewardEvent) => boolean, reload: () => void) {
  const latest = useRef({ matches, reload });
  latest.current = { matches, reload };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => latest.current.reload(), 120);
    };
    const unsubscribe = onEvent((event) => {
      if (latest.current.matches(event)) schedule();
    });
    let previous = liveStatus.peek();
    const unwatch = liveStatus.subscribe((status) => {
      if (status === 'live' && previous === 'reconnecting') schedule();
      previous = status;
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
      unwatch();
    };
  }, []);
}

/** Events about one kind of subject (`action.`, `run.`, …). */
export const about = (...prefixes: string[]) => (event: StewardEvent) =>
  prefixes.some((prefix) => event.kind.startsWith(prefix));
