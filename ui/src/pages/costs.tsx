// Costs per day, per agent and per model over a chosen span, with the
// budget lines. Days are UTC days, as budgets count them.

import { useLocation } from 'preact-iso';
import { get } from '../api/client';
import type { CostEntry, CostReport } from '../api/types';
import { agentName, agents } from '../agents';
import { DayBars, HorizontalBars } from '../components/charts';
import { useData } from '../components/data';
import { Empty, ErrorNote, Loading, PageHeader, Stat } from '../components/ui';
import { formatCount, formatDay, formatUsd } from '../format';
import { about, useLiveReload } from '../live';

const SPANS = [7, 30, 90];

function daysOf(report: CostReport): string[] {
  const days: string[] = [];
  const start = new Date(`${report.since}T00:00:00Z`).getTime();
  for (let index = 0; index < report.days; index++) days.push(new Date(start + index * 86400e3).toISOString().slice(0, 10));
  return days;
}

export function CostsPage() {
  const { query, route } = useLocation();
  const span = SPANS.includes(Number(query.days)) ? Number(query.days) : 30;
  const { data, error, reload } = useData((signal) => get<CostReport>(`/costs?days=${span}`, signal), [span]);
  useLiveReload(about('run.step', 'run.finished', 'message.'), reload);

  const usd = (value: number) => formatUsd(value);
  const axis = (value: number) => `$${Number(value.toPrecision(3))}`;
  return (
    <>
      <PageHeader title="Costs" subtitle="What model calls cost, per day (UTC, as budgets count), per agent and per model." />
      <div class="toolbar" role="group" aria-label="Span">
        <div class="segmented" role="radiogroup" aria-label="Days shown">
          {SPANS.map((days) => (
            <button key={days} type="button" role="radio" aria-checked={span === days} onClick={() => route(`/costs?days=${days}`, true)}>
              {days} days
            </button>
          ))}
        </div>
      </div>
      <ErrorNote error={error} retry={reload} />
      {!data && !error && <Loading />}
      {data && <CostCharts report={data} format={usd} axis={axis} />}
    </>
  );
}

function CostCharts({ report, format, axis }: { report: CostReport; format: (value: number) => string; axis: (value: number) => string }) {
  const total = report.entries.reduce((sum, entry) => sum + entry.cost_usd, 0);
  const unknown = report.entries.reduce((sum, entry) => sum + entry.unknown_cost_calls, 0);
  const calls = report.entries.reduce((sum, entry) => sum + entry.model_calls, 0);
  if (report.entries.length === 0) {
    return (
      <Empty title={`No model calls in the last ${report.days} days`}>
        <p>
          Costs appear once agents chat or run. {agents.value.length === 0 ? <a href="/agents/new">Create an agent</a> : <a href="/agents">Chat with an agent</a>} to start.
        </p>
      </Empty>
    );
  }
  const agentIds = [...new Set(report.entries.map((entry) => entry.agent_id))].sort((a, b) => a - b);
  const series = agentIds.map(agentName);
  const days = daysOf(report);
  const bars = days.map((day) => ({
    label: formatDay(day),
    parts: agentIds.map((id) => ({
      series: agentName(id),
      value: report.entries.filter((entry) => entry.day === day && entry.agent_id === id).reduce((sum, entry) => sum + entry.cost_usd, 0),
    })),
  }));
  const dailyBudgets = agentIds.map((id) => agents.value.find((agent) => agent.id === id)?.budget.daily_usd ?? null);
  const budget = dailyBudgets.every((value) => value !== null) ? dailyBudgets.reduce((sum, value) => sum + (value ?? 0), 0) : null;
  const today = new Date().toISOString().slice(0, 10);
  const byAgent = agentIds.map((id) => {
    const agent = agents.value.find((candidate) => candidate.id === id);
    const spent = report.entries.filter((entry) => entry.agent_id === id).reduce((sum, entry) => sum + entry.cost_usd, 0);
    return { label: agentName(id), value: spent, limit: agent?.budget.total_usd ?? null, note: agent?.budget.total_usd ? 'total budget' : undefined };
  });
  const todayByAgent = agentIds.map((id) => {
    const agent = agents.value.find((candidate) => candidate.id === id);
    const spent = report.entries.filter((entry) => entry.agent_id === id && entry.day === today).reduce((sum, entry) => sum + entry.cost_usd, 0);
    return { label: agentName(id), value: spent, limit: agent?.budget.daily_usd ?? null, note: agent?.budget.daily_usd ? 'daily budget' : 'no daily budget' };
  });
  // Oversight (the guardian's looks at runs) shows apart from the work it watches.
  const modelLabel = (entry: CostEntry) => `${entry.model ?? 'chat replies'}${entry.purpose === 'oversight' ? ' (oversight)' : ''}`;
  const models = [...new Set(report.entries.map(modelLabel))];
  const oversight = report.entries.filter((entry) => entry.purpose === 'oversight').reduce((sum, entry) => sum + entry.cost_usd, 0);
  const byModel = models
    .map((model) => {
      const entries = report.entries.filter((entry) => modelLabel(entry) === model);
      return {
        label: model,
        value: entries.reduce((sum, entry) => sum + entry.cost_usd, 0),
        note: `${formatCount(entries.reduce((sum, entry) => sum + entry.model_calls, 0))} calls`,
      };
    })
    .sort((a, b) => b.value - a.value);

  return (
    <>
      <div class="stats">
        <Stat label={`spent in ${report.days} days`} value={formatUsd(total, unknown === 0)} />
        <Stat label="model calls" value={formatCount(calls)} />
        <Stat label="of which oversight" value={formatUsd(oversight, true)} hint="the guardian's looks at long runs" />
        <Stat label="calls of unknown price" value={formatCount(unknown)} hint={unknown > 0 ? 'not in the totals, which are then too low' : undefined} />
      </div>
      <section class="card" aria-labelledby="per-day">
        <h2 id="per-day">Per day</h2>
        <DayBars
          bars={bars}
          series={series}
          budget={budget}
          format={axis}
          description={`Cost per day over ${report.days} days, ${formatUsd(total)} in all${budget ? `; the agents' daily budgets add up to ${formatUsd(budget)}` : ''}.`}
        />
        <details>
          <summary>As a table</summary>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                {series.map((name) => (
                  <th key={name} scope="col">
                    {name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {days
                .map((day, index) => ({ day, bar: bars[index] }))
                .filter(({ bar }) => bar.parts.some((part) => part.value > 0))
                .map(({ day, bar }) => (
                  <tr key={day}>
                    <th scope="row">{day}</th>
                    {bar.parts.map((part) => (
                      <td key={part.series}>{formatUsd(part.value)}</td>
                    ))}
                  </tr>
                ))}
            </tbody>
          </table>
        </details>
      </section>
      <div class="two-columns">
        <section class="card" aria-labelledby="per-agent">
          <h2 id="per-agent">Per agent</h2>
          <HorizontalBars bars={byAgent} format={format} label={`Cost per agent over ${report.days} days`} />
          <h3>Today against the daily budget</h3>
          <HorizontalBars bars={todayByAgent} format={format} label="Cost per agent today" />
        </section>
        <section class="card" aria-labelledby="per-model">
          <h2 id="per-model">Per model</h2>
          <HorizontalBars bars={byModel} format={format} label={`Cost per model over ${report.days} days`} />
          <p class="muted">Chat replies are counted apart: their model is not recorded with them.</p>
        </section>
      </div>
    </>
  );
}
