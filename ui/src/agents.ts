// The agents, shared by every page that names one (filters, palette, cards),
// kept fresh by the event stream.

import { signal } from '@preact/signals';
import { get } from './api/client';
import type { Agent } from './api/types';
import { onEvent } from './live';

export const agents = signal<Agent[]>([]);
export const agentsLoaded = signal(false);

export async function refreshAgents() {
  try {
    const [live, archived] = await Promise.all([
      get<{ agents: Agent[] }>('/agents'),
      get<{ agents: Agent[] }>('/agents?status=archived'),
    ]);
    agents.value = [...live.agents, ...archived.agents].sort((a, b) => a.id - b.id);
  } catch {
    // Pages show their own errors; names fall back to "agent N".
  } finally {
    agentsLoaded.value = true;
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
export function watchAgents() {
  void refreshAgents();
  onEvent((event) => {
    if (!event.kind.startsWith('agent.')) return;
    clearTimeout(timer);
    timer = setTimeout(() => void refreshAgents(), 100);
  });
}

export function agentName(id: number): string {
  return agents.value.find((agent) => agent.id === id)?.name ?? `agent ${id}`;
}
