// The command palette (Ctrl/Cmd+K): type to jump to any page, agent, action
// or run, or to run a common command. Arrow keys choose, Enter goes, Escape
// closes.

import { signal } from '@preact/signals';
import { useLocation } from 'preact-iso';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { get } from '../api/client';
import type { Action, Run } from '../api/types';
import { agentName, agents } from '../agents';
import { NAV } from '../nav';

export const paletteOpen = signal(false);

interface Entry {
  key: string;
  group: string;
  label: string;
  hint?: string;
  run: () => void;
}

function matches(entry: Entry, words: string[]): boolean {
  const text = `${entry.group} ${entry.label} ${entry.hint ?? ''}`.toLowerCase();
  return words.every((word) => text.includes(word));
}

/** The entries a query shows, best first: for a number, "go to" that action, run or job. */
function visibleEntries(entries: Entry[], text: string, go: (path: string) => () => void): Entry[] {
  const number = text.trim().match(/^#?(\d+)$/)?.[1];
  const goTo: Entry[] = number
    ? [
        { key: `goto-action-${number}`, group: 'Go to', label: `Action #${number}`, run: go(`/actions/${number}`) },
        { key: `goto-run-${number}`, group: 'Go to', label: `Run #${number}`, run: go(`/runs/${number}`) },
        { key: `goto-job-${number}`, group: 'Go to', label: `Job #${number}`, run: go(`/queue/${number}`) },
      ]
    : [];
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return [...goTo, ...entries.filter((entry) => matches(entry, words))].slice(0, 50);
}

export function Palette() {
  const open = paletteOpen.value;
  const { route } = useLocation();
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  const [actions, setActions] = useState<Action[]>([]);
  const [runs, setRuns] = useState<Run[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const returnFocus = useRef<Element | null>(null);

  // A layout effect: it runs as the dialog is drawn, before anyone can type.
  // (A plain effect waits for the next frame, and under load a fast typist's
  // first keys arrived before it and were wiped by the reset.)
  useLayoutEffect(() => {
    if (!open) return;
    returnFocus.current = document.activeElement;
    setText('');
    setActive(0);
    input.current?.focus();
    get<{ actions: Action[] }>('/actions').then((page) => setActions(page.actions), () => setActions([]));
    get<{ runs: Run[] }>('/runs?limit=50').then((page) => setRuns(page.runs), () => setRuns([]));
    return () => (returnFocus.current as HTMLElement | null)?.focus?.();
  }, [open]);

  if (!open) return null;
  const close = () => (paletteOpen.value = false);
  const go = (path: string) => () => {
    close();
    route(path);
  };

  const entries: Entry[] = [
    { key: 'new-agent', group: 'Command', label: 'New agent', hint: 'create through the setup chat', run: go('/agents/new') },
    { key: 'approve', group: 'Command', label: 'Review approvals', hint: 'approve or reject tool calls', run: go('/approvals') },
    { key: 'dead', group: 'Command', label: 'Retry dead jobs', hint: 'the queue filtered to dead jobs', run: go('/queue?state=dead') },
    { key: 'failed-runs', group: 'Command', label: 'Show failed runs', run: go('/runs?status=finished&outcome=failed') },
    ...NAV.map((item) => ({ key: `page-${item.path}`, group: 'Page', label: item.label, hint: item.keywords, run: go(item.path) })),
    ...agents.value.flatMap((agent) => [
      { key: `agent-${agent.id}`, group: 'Agent', label: agent.name, hint: agent.goal, run: go(`/agents/${agent.id}`) },
      ...(agent.status === 'archived'
        ? []
        : [{ key: `chat-${agent.id}`, group: 'Command', label: `Chat with ${agent.name}`, run: go(`/agents/${agent.id}/chat`) }]),
    ]),
    ...actions.map((action) => ({
      key: `action-${action.id}`,
      group: 'Action',
      label: `#${action.id} ${action.title}`,
      hint: `${action.state} · ${agentName(action.agent_id)}`,
      run: go(`/actions/${action.id}`),
    })),
    ...runs.map((run) => ({
      key: `run-${run.id}`,
      group: 'Run',
      label: `Run #${run.id}`,
      hint: `${run.outcome ?? run.status} · ${agentName(run.agent_id)} · ${run.instruction.slice(0, 60)}`,
      run: go(`/runs/${run.id}`),
    })),
  ];
  const shown = visibleEntries(entries, text, go);
  const current = Math.min(active, Math.max(shown.length - 1, 0));

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === 'Escape') {
      event.preventDefault();
      close();
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      setActive((current + 1) % Math.max(shown.length, 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((current - 1 + shown.length) % Math.max(shown.length, 1));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      // A fast typist (or a test) can press Enter before the last keystroke
      // re-rendered the list: act on what the input holds now.
      const typed = (event.currentTarget as HTMLInputElement).value;
      if (typed === text) shown[current]?.run();
      else visibleEntries(entries, typed, go)[0]?.run();
    } else if (event.key === 'Tab') {
      // The dialog holds the focus while it is open.
      event.preventDefault();
    }
  }

  return (
    <div class="palette-backdrop" onClick={(event) => event.target === event.currentTarget && close()}>
      <div class="palette" role="dialog" aria-modal="true" aria-label="Command palette">
        <input
          ref={input}
          class="palette-input"
          role="combobox"
          aria-expanded="true"
          aria-controls="palette-list"
          aria-activedescendant={shown[current] ? `palette-${shown[current].key}` : undefined}
          aria-label="Search pages, agents, actions and runs, or type a command"
          placeholder="Jump to… (an agent, #42, approvals, new agent)"
          value={text}
          onInput={(event) => {
            setText(event.currentTarget.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
        />
        {shown.length === 0 && <p class="palette-empty muted">Nothing matches “{text}”.</p>}
        <ul id="palette-list" role="listbox" class="palette-list" aria-label="Results">
          {shown.map((entry, index) => (
            <li
              key={entry.key}
              id={`palette-${entry.key}`}
              role="option"
              aria-selected={index === current}
              class={index === current ? 'palette-item active' : 'palette-item'}
              onMouseMove={() => index !== current && setActive(index)}
              onClick={entry.run}
            >
              <span class="palette-group">{entry.group}</span>
              <span class="palette-label">{entry.label}</span>
              {entry.hint && <span class="palette-hint muted">{entry.hint}</span>}
            </li>
          ))}
        </ul>
        <p class="palette-footer muted">↑ ↓ to choose · Enter to go · Esc to close</p>
      </div>
    </div>
  );
}
