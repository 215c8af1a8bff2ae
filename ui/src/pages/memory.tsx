// Memory: search what agents remember (as of a date, by kind and agent),
// with why each result matched and the episodes it came from; forget a
// fact with a reason; an entity's facts with their history; and each
// agent's core blocks, the small notes in every prompt, edited in place.

import { useState } from 'preact/hooks';
import { agents } from '../agents';
import { ApiError, get, post } from '../api/client';
import type { CoreBlock, EntityFacts, MemoryFact, MemoryResult, MemorySearch } from '../api/types';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Loading, PageHeader, toast } from '../components/ui';
import { formatTime } from '../format';

export function MemoryPage() {
  const [entity, setEntity] = useState('');
  return (
    <>
      <PageHeader
        title="Memory"
        subtitle="What agents learned from feedback, corrections and notes: facts hold for a time, and nothing is deleted — a forgotten or contradicted fact is closed, so an as-of search still finds it."
      />
      <SearchSection onEntity={setEntity} />
      <EntitySection name={entity} onName={setEntity} />
      <CoreBlocksSection />
    </>
  );
}

function SearchSection({ onEntity }: { onEntity: (name: string) => void }) {
  const [form, setForm] = useState({ q: '', asOf: '', kind: '', agent: '' });
  const [outcome, setOutcome] = useState<MemorySearch | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const search = async (event?: Event) => {
    event?.preventDefault();
    if (!form.q.trim()) return;
    const query = new URLSearchParams({ q: form.q, limit: '20' });
    if (form.asOf) query.set('as_of', form.asOf);
    if (form.kind) query.set('kind', form.kind);
    if (form.agent) query.set('agent_id', form.agent);
    setBusy(true);
    try {
      setOutcome(await get<MemorySearch>(`/memory/search?${query}`));
      setError(null);
    } catch (cause) {
      setError(cause as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="memory-search">
      <h2 id="memory-search">Search</h2>
      <form class="toolbar" role="search" onSubmit={search}>
        <label>
          Find <input type="search" name="q" value={form.q} onInput={(e) => setForm({ ...form, q: e.currentTarget.value })} placeholder="brand voice" />
        </label>
        <label>
          As of <input type="date" name="as_of" value={form.asOf} onInput={(e) => setForm({ ...form, asOf: e.currentTarget.value })} />
        </label>
        <label>
          Kind{' '}
          <select name="kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })}>
            <option value="">all</option>
            <option value="fact">facts</option>
            <option value="entity">entities</option>
            <option value="episode">episodes</option>
          </select>
        </label>
        <label>
          Agent{' '}
          <select name="agent" value={form.agent} onChange={(e) => setForm({ ...form, agent: e.currentTarget.value })}>
            <option value="">any</option>
            {agents.value.map((agent) => (
              <option key={agent.id} value={String(agent.id)}>{agent.name}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy || !form.q.trim()}>Search</button>
      </form>
      <ErrorNote error={error} />
      {outcome && !outcome.vectors_used && <p class="muted">No embedding model: full text and the graph only.</p>}
      {outcome && outcome.results.length === 0 && <p class="muted">Nothing found{form.asOf ? ` as of ${form.asOf}` : ''}.</p>}
      {outcome && outcome.results.length > 0 && (
        <table class="table">
          <caption>Results for “{form.q}”{form.asOf ? ` as of ${form.asOf}` : ''}, best first</caption>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">What</th>
              <th scope="col">Why it matched</th>
              <th scope="col">From</th>
              <th scope="col"><span class="visually-hidden">Commands</span></th>
            </tr>
          </thead>
          <tbody>
            {outcome.results.map((result) => (
              <ResultRow key={`${result.kind}-${result.id}`} result={result} onEntity={onEntity} onForgotten={() => void search()} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ResultRow({ result, onEntity, onForgotten }: { result: MemoryResult; onEntity: (name: string) => void; onForgotten: () => void }) {
  const fact = result.fact;
  return (
    <tr>
      <td>
        <Badge value={fact ? fact.kind : result.kind} />
      </td>
      <td>
        {result.kind === 'entity' ? (
          <button type="button" class="link-button" onClick={() => onEntity(result.text.split(':')[0])}>{result.text}</button>
        ) : (
          result.text
        )}
        {fact && <FactTimes fact={fact} />}
      </td>
      <td class="muted">{result.why.join('; ')}</td>
      <td>
        {result.provenance.map((episode) => (
          <div key={episode.id} title={episode.content}>
            {episode.source} #{episode.id}, {formatTime(episode.reference_time)}
          </div>
        ))}
      </td>
      <td>{fact && !fact.expired_at && <Forget fact={fact} onDone={onForgotten} />}</td>
    </tr>
  );
}

function FactTimes({ fact }: { fact: MemoryFact }) {
  return (
    <div class="muted">
      valid {formatTime(fact.valid_at)} → {fact.invalid_at ? formatTime(fact.invalid_at) : 'now'}
      {fact.expired_at ? ` · closed ${formatTime(fact.expired_at)}` : ''}
    </div>
  );
}

function Forget({ fact, onDone }: { fact: MemoryFact; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  if (!open) {
    return <button type="button" onClick={() => setOpen(true)} aria-label={`Forget fact ${fact.id}`}>Forget…</button>;
  }
  const forget = async (event: Event) => {
    event.preventDefault();
    try {
      await post(`/memory/facts/${fact.id}/forget`, { reason });
      toast(`Forgot: ${fact.fact}`);
      onDone();
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    }
  };
  return (
    <form onSubmit={forget} class="toolbar">
      <label>
        Reason <input name="reason" required value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={!reason.trim()}>Forget</button>
      <button type="button" onClick={() => setOpen(false)}>Cancel</button>
    </form>
  );
}

function EntitySection({ name, onName }: { name: string; onName: (name: string) => void }) {
  const [typed, setTyped] = useState(name);
  const [shown, setShown] = useState(name);
  if (name !== shown) {
    setShown(name);
    setTyped(name);
  }
  const { data, error, reload } = useData(
    (signal) => (name ? get<EntityFacts>(`/memory/facts?entity=${encodeURIComponent(name)}&history=true`, signal) : Promise.resolve(null)),
    [name],
  );
  return (
    <section class="card" aria-labelledby="memory-entity">
      <h2 id="memory-entity">An entity's facts, with their history</h2>
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          onName(typed.trim());
        }}
      >
        <label>
          Entity <input name="entity" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} placeholder="the user" />
        </label>
        <button type="submit" disabled={!typed.trim()}>Show facts</button>
      </form>
      {name && <ErrorNote error={error} retry={reload} />}
      {name && !data && !error && <Loading />}
      {data && (
        <>
          <p>
            <strong>{data.name}</strong> {data.summary && <span class="muted">— {data.summary}</span>}
          </p>
          {data.facts.length === 0 ? (
            <p class="muted">No facts about {data.name}.</p>
          ) : (
            <table class="table">
              <caption>Facts about {data.name}, oldest first; closed ones are kept</caption>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Fact</th>
                  <th scope="col">Valid from</th>
                  <th scope="col">Until</th>
                  <th scope="col">Learned</th>
                  <th scope="col">Closed</th>
                </tr>
              </thead>
              <tbody>
                {data.facts.map((fact) => (
                  <tr key={fact.id} class={fact.expired_at ? 'muted' : undefined}>
                    <td>
                      <Badge value={fact.kind} />
                    </td>
                    <td>{fact.expired_at ? <s>{fact.fact}</s> : fact.fact}</td>
                    <td>{formatTime(fact.valid_at)}</td>
                    <td>{fact.invalid_at ? formatTime(fact.invalid_at) : '—'}</td>
                    <td>{formatTime(fact.created_at)}</td>
                    <td>{fact.expired_at ? formatTime(fact.expired_at) : 'believed now'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

function CoreBlocksSection() {
  const [agent, setAgent] = useState('');
  const chosen = agent || (agents.value[0] ? String(agents.value[0].id) : '');
  const { data, error, reload } = useData(
    (signal) => (chosen ? get<{ blocks: CoreBlock[] }>(`/agents/${chosen}/memory/core-blocks`, signal).then((page) => page.blocks) : Promise.resolve([])),
    [chosen],
  );
  return (
    <section class="card" aria-labelledby="memory-core">
      <h2 id="memory-core">Core blocks</h2>
      <p class="muted">Small notes in every prompt of the agent; the agent edits them too (memory.core_update). An empty value removes a block.</p>
      {agents.value.length === 0 ? (
        <Empty title="No agents yet">
          <p>Core blocks belong to an agent.</p>
        </Empty>
      ) : (
        <label>
          Agent{' '}
          <select name="core-agent" value={chosen} onChange={(e) => setAgent(e.currentTarget.value)}>
            {agents.value.map((item) => (
              <option key={item.id} value={String(item.id)}>{item.name}</option>
            ))}
          </select>
        </label>
      )}
      <ErrorNote error={error} retry={reload} />
      {chosen && !data && !error && <Loading />}
      {data?.map((block) => (
        <BlockEditor key={`${chosen}-${block.label}-${block.updated_at}`} agent={chosen} label={block.label} value={block.value} onSaved={reload} />
      ))}
      {chosen && data && <BlockEditor key={`${chosen}-new-${data.length}`} agent={chosen} label="" value="" onSaved={reload} />}
    </section>
  );
}

function BlockEditor(props: { agent: string; label: string; value: string; onSaved: () => void }) {
  const [label, setLabel] = useState(props.label);
  const [value, setValue] = useState(props.value);
  const isNew = props.label === '';
  const save = async (event: Event) => {
    event.preventDefault();
    try {
      await post(`/agents/${props.agent}/memory/core-blocks`, { label, value });
      toast(value ? `Saved core block ${label}` : `Removed core block ${label}`);
      props.onSaved();
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    }
  };
  return (
    <form class="core-block" onSubmit={save} aria-label={isNew ? 'New core block' : `Core block ${props.label}`}>
      {isNew ? (
        <label>
          New block <input name="label" value={label} onInput={(e) => setLabel(e.currentTarget.value)} placeholder="preferences" pattern="[a-z0-9_]{1,40}" />
        </label>
      ) : (
        <h3>{props.label}</h3>
      )}
      <textarea name="value" aria-label={`Value of ${label || 'the new block'}`} rows={3} maxLength={2000} value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      <button type="submit" disabled={!label || (isNew && !value.trim())}>Save</button>
    </form>
  );
}
