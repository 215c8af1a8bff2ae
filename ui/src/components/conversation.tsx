// A conversation with an agent whose replies stream in token by token: the
// agent's chat, or an action's refinement thread. Drafts the agent proposes
// or revises appear as cards inline in its reply.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, streamChat } from '../api/client';
import type { Action, ChatMessage } from '../api/types';
import { formatClock, formatUsd } from '../format';
import { ErrorNote, Loading } from './ui';

interface Turn {
  key: string;
  role: 'user' | 'assistant';
  text: string;
  streaming?: boolean;
  drafts: Action[];
  message?: ChatMessage;
}

function turnOf(message: ChatMessage): Turn {
  return { key: `m${message.id}`, role: message.role, text: message.text, drafts: [], message };
}

export function Conversation(props: {
  /** `/agents/3/chat` or `/actions/7/chat`: GET for the history, POST to send. */
  path: string;
  label: string;
  placeholder: string;
  disabled?: string | null;
  renderDraft: (action: Action) => ComponentChildren;
  onDraft?: (action: Action) => void;
  intro?: ComponentChildren;
}) {
  const [turns, setTurns] = useState<Turn[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const end = useRef<HTMLLIElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    setTurns(null);
    const controller = new AbortController();
    get<{ messages: ChatMessage[] }>(props.path, controller.signal).then(
      (history) => setTurns(history.messages.map(turnOf)),
      (cause) => {
        if (!(cause instanceof DOMException)) setError(cause as ApiError);
      },
    );
    return () => controller.abort();
  }, [props.path]);

  useEffect(() => {
    end.current?.scrollIntoView({ block: 'end' });
  }, [turns]);

  async function send(event: Event) {
    event.preventDefault();
    const message = text.trim();
    if (!message || sending) return;
    setSending(true);
    setError(null);
    setText('');
    const stamp = Date.now();
    const mine: Turn = { key: `u${stamp}`, role: 'user', text: message, drafts: [] };
    const reply: Turn = { key: `a${stamp}`, role: 'assistant', text: '', streaming: true, drafts: [] };
    setTurns((list) => [...(list ?? []), mine, reply]);
    const update = (change: (turn: Turn) => Turn) =>
      setTurns((list) => (list ?? []).map((turn) => (turn.key === reply.key ? change(turn) : turn)));
    try {
      await streamChat(props.path, message, (name, data) => {
        if (name === 'delta') update((turn) => ({ ...turn, text: turn.text + data.text }));
        else if (name === 'draft_proposed' || name === 'draft_updated') {
          const action = data.action as Action;
          update((turn) => ({ ...turn, drafts: [...turn.drafts.filter((draft) => draft.id !== action.id), action] }));
          props.onDraft?.(action);
        } else if (name === 'done') {
          const stored = data.message as ChatMessage;
          update((turn) => ({ ...turn, text: stored.text, streaming: false, message: stored }));
        } else if (name === 'error') {
          const body = data.error;
          setError(new ApiError(0, body?.code ?? 'error', body?.message ?? 'the reply failed'));
        }
      });
      update((turn) => ({ ...turn, streaming: false }));
    } catch (cause) {
      setError(cause as ApiError);
      // A refused message was not stored: take it back into the box.
      setTurns((list) => (list ?? []).filter((turn) => turn.key !== mine.key && turn.key !== reply.key));
      setText(message);
    } finally {
      setSending(false);
      input.current?.focus();
    }
  }

  return (
    <section class="chat" aria-label={props.label}>
      {turns === null && !error && <Loading />}
      <ol class="messages" aria-live="polite" aria-busy={sending}>
        {turns !== null && turns.length === 0 && props.intro && <li class="message assistant">{props.intro}</li>}
        {(turns ?? []).map((turn) => (
          <li key={turn.key} class={`message ${turn.role}${turn.streaming ? ' streaming' : ''}`} data-testid={turn.role === 'assistant' ? 'assistant-message' : undefined}>
            {turn.text && <p>{turn.text}</p>}
            {turn.streaming && !turn.text && <p class="muted">Thinking…</p>}
            {turn.drafts.map((draft) => (
              <div key={draft.id}>{props.renderDraft(draft)}</div>
            ))}
            {turn.message && turn.role === 'assistant' && (
              <span class="message-meta">
                {formatClock(turn.message.created_at)}
                {turn.message.cost.model_calls > 0 && ` · ${formatUsd(turn.message.cost.cost_usd, turn.message.cost.cost_known)}`}
                {turn.message.run_id !== null && turn.message.run_id !== undefined && (
                  <>
                    {' · '}
                    <a href={`/runs/${turn.message.run_id}`}>run #{turn.message.run_id}</a>
                  </>
                )}
              </span>
            )}
          </li>
        ))}
        <li ref={end} class="messages-end" aria-hidden="true" />
      </ol>
      <ErrorNote error={error} />
      {props.disabled ? (
        <p class="muted">{props.disabled}</p>
      ) : (
        <form class="composer" onSubmit={send}>
          <label for={`composer-${props.path}`} class="visually-hidden">
            Your message
          </label>
          <textarea
            id={`composer-${props.path}`}
            ref={input}
            rows={2}
            value={text}
            placeholder={props.placeholder}
            onInput={(event) => setText(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && !event.shiftKey) send(event);
            }}
          />
          <button type="submit" class="primary" disabled={sending || !text.trim()}>
            Send
          </button>
        </form>
      )}
    </section>
  );
}
