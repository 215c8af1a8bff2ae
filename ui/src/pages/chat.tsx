// Chatting with an agent: replies stream in; the draft action it proposes
// appears as a card with Define / Refine / Dismiss, and open drafts stay
// listed beside the conversation.

import { get } from '../api/client';
import type { Action, Agent } from '../api/types';
import { Conversation } from '../components/conversation';
import { useData } from '../components/data';
import { DraftCard } from '../components/draft-card';
import { Badge, ErrorNote, Loading, PageHeader } from '../components/ui';
import { useLiveReload } from '../live';

export function ChatPage({ id }: { id: string }) {
  const agent = useData((signal) => get<Agent>(`/agents/${id}`, signal), [id]);
  const open = useData(
    (signal) => get<{ actions: Action[] }>(`/actions?agent_id=${id}`, signal).then((page) => page.actions),
    [id],
  );
  const drafts = (open.data ?? []).filter((action) => action.state === 'draft' || action.state === 'defined');
  const others = (open.data ?? [])
    .filter((action) => action.state !== 'draft' && action.state !== 'defined')
    .sort((a, b) => b.updated_at.localeCompare(a.updated_at))
    .slice(0, 8);
  useLiveReload((event) => event.kind.startsWith('action.') && String(event.data.agent_id) === id, open.reload);

  if (agent.error) return <ErrorNote error={agent.error} retry={agent.reload} />;
  if (!agent.data) return <Loading />;
  const current = agent.data;
  const disabled =
    current.status === 'archived' ? `${current.name} is archived and no longer chats.` : null;

  return (
    <>
      <PageHeader
        title={`Chat with ${current.name}`}
        subtitle={current.goal}
        actions={
          <a class="button" href={`/agents/${current.id}`}>
            About this agent
          </a>
        }
      />
      <div class="chat-layout">
        <Conversation
          path={`/agents/${current.id}/chat`}
          label={`Chat with ${current.name}`}
          placeholder={`Ask ${current.name} what to do next…`}
          disabled={disabled}
          renderDraft={(action) => <DraftCard action={action} onChange={open.reload} />}
          onDraft={open.reload}
          intro={<p>Ask what to do next toward the goal. The agent proposes one concrete action at a time, as a draft you can define, refine or dismiss.</p>}
        />
        <aside class="side" aria-labelledby="open-drafts">
          <h2 id="open-drafts">Open drafts</h2>
          {open.data && drafts.length === 0 && <p class="muted">No open drafts. Ask the agent for a next action.</p>}
          {drafts.map((action) => (
            <DraftCard key={`${action.id}-${action.updated_at}`} action={action} onChange={open.reload} />
          ))}
          {others.length > 0 && (
            <>
              <h2>Earlier actions</h2>
              <ul class="plain-list">
                {others.map((action) => (
                  <li key={action.id}>
                    <Badge value={action.state} /> <a href={`/actions/${action.id}`}>{action.title}</a>
                  </li>
                ))}
              </ul>
            </>
          )}
        </aside>
      </div>
    </>
  );
}
