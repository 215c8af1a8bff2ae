// Creating an agent through the setup chat, the same flow as
// `steward agent new`: a few turns draw out the goal, success criteria and
// timeline; once the assistant says it has enough, the person checks the
// fields and creates the agent.

import { useLocation } from 'preact-iso';
import { useRef, useState } from 'preact/hooks';
import { ApiError, post } from '../api/client';
import type { Agent, AgentProposal, ChatMessage, SetupChatResponse } from '../api/types';
import { refreshAgents } from '../agents';
import { ErrorNote, PageHeader, toast } from '../components/ui';

export function NewAgentPage() {
  const { route } = useLocation();
  const [conversation, setConversation] = useState<number | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [ready, setReady] = useState(false);
  const [proposal, setProposal] = useState<AgentProposal | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  async function send(event: Event) {
    event.preventDefault();
    const text = draft.trim();
    if (!text || sending) return;
    setSending(true);
    setError(null);
    const mine: ChatMessage = {
      id: -Date.now(),
      role: 'user',
      text,
      cost: { model_calls: 0, cost_usd: 0, cost_known: true, unknown_cost_calls: 0 },
      run_id: null,
      created_at: new Date().toISOString(),
    };
    setMessages((list) => [...list, mine]);
    setDraft('');
    try {
      const reply = await post<SetupChatResponse>('/agents/setup-chat', {
        message: text,
        ...(conversation === null ? {} : { conversation_id: conversation }),
      });
      setConversation(reply.conversation_id);
      setMessages((list) => [...list, reply.message]);
      setReady(reply.ready);
      if (reply.proposal) setProposal(reply.proposal);
    } catch (cause) {
      setError(cause as ApiError);
      setDraft(text);
      setMessages((list) => list.filter((message) => message !== mine));
    } finally {
      setSending(false);
      input.current?.focus();
    }
  }

  return (
    <>
      <PageHeader
        title="New agent"
        subtitle="Say what you want to achieve. The assistant asks until the goal, how success is judged and a timeline are clear."
      />
      <div class="setup-layout">
        <section class="chat" aria-label="Setup chat">
          <ol class="messages" aria-live="polite">
            {messages.length === 0 && (
              <li class="message assistant">
                <p>What should the new agent achieve? For example: "Launch our product blog and reach 500 readers by Friday."</p>
              </li>
            )}
            {messages.map((message) => (
              <li key={message.id} class={`message ${message.role}`}>
                <p>{message.text}</p>
              </li>
            ))}
            {sending && (
              <li class="message assistant pending">
                <p>Thinking…</p>
              </li>
            )}
          </ol>
          <ErrorNote error={error} />
          <form class="composer" onSubmit={send}>
            <label for="setup-message" class="visually-hidden">
              Your message
            </label>
            <textarea
              id="setup-message"
              ref={input}
              rows={2}
              value={draft}
              placeholder="Describe the goal…"
              onInput={(event) => setDraft(event.currentTarget.value)}
              onKeyDown={(event) => {
                if (event.key === 'Enter' && !event.shiftKey) send(event);
              }}
            />
            <button type="submit" class="primary" disabled={sending || !draft.trim()}>
              Send
            </button>
          </form>
        </section>
        <ProposalPanel
          conversation={conversation}
          proposal={proposal}
          ready={ready}
          onCreated={(agent) => {
            void refreshAgents();
            toast(`Created agent ${agent.name}`);
            route(`/agents/${agent.id}`);
          }}
        />
      </div>
    </>
  );
}

function ProposalPanel(props: {
  conversation: number | null;
  proposal: AgentProposal | null;
  ready: boolean;
  onCreated: (agent: Agent) => void;
}) {
  const [edits, setEdits] = useState<Partial<Record<'name' | 'goal' | 'criteria' | 'timeline', string>>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [creating, setCreating] = useState(false);
  const proposal = props.proposal;
  const value = (field: 'name' | 'goal' | 'criteria' | 'timeline') =>
    edits[field] ??
    (field === 'criteria' ? (proposal?.success_criteria ?? []).join('\n') : field === 'timeline' ? (proposal?.timeline ?? '') : (proposal?.[field] ?? ''));

  async function create(event: Event) {
    event.preventDefault();
    if (props.conversation === null) return;
    setCreating(true);
    setError(null);
    try {
      const agent = await post<Agent>(`/agents/setup-chat/${props.conversation}/confirm`, {
        name: value('name'),
        goal: value('goal'),
        success_criteria: value('criteria').split('\n').map((line) => line.trim()).filter(Boolean),
        ...(value('timeline').trim() ? { timeline: value('timeline').trim() } : {}),
      });
      props.onCreated(agent);
    } catch (cause) {
      setError(cause as ApiError);
    } finally {
      setCreating(false);
    }
  }

  return (
    <aside class="card proposal" aria-label="The agent so far">
      <h2>The agent so far</h2>
      {!proposal && <p class="muted">The name, goal, success criteria and timeline appear here as the chat draws them out.</p>}
      {proposal && (
        <form onSubmit={create} class="form">
          <label>
            Name
            <input value={value('name')} onInput={(event) => setEdits({ ...edits, name: event.currentTarget.value })} />
          </label>
          <label>
            Goal
            <textarea rows={2} value={value('goal')} onInput={(event) => setEdits({ ...edits, goal: event.currentTarget.value })} />
          </label>
          <label>
            Success criteria (one per line)
            <textarea rows={3} value={value('criteria')} onInput={(event) => setEdits({ ...edits, criteria: event.currentTarget.value })} />
          </label>
          <label>
            Timeline
            <input value={value('timeline')} onInput={(event) => setEdits({ ...edits, timeline: event.currentTarget.value })} />
          </label>
          <ErrorNote error={error} />
          <p class="muted">{props.ready ? 'The assistant has what it needs.' : 'The assistant may still ask a question; you can create the agent now anyway.'}</p>
          <button type="submit" class="primary" disabled={creating}>
            Create agent
          </button>
        </form>
      )}
    </aside>
  );
}
