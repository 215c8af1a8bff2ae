// graphile-worker's side of the queue benchmark: the same phases as
// `steward bench queue` (crates/cli/src/commands/bench.rs), on the same
// PostgreSQL, printed in the same shape, so the two can be read side by side.
//
//   node bench.mjs --database postgres://postgres@127.0.0.1:5432/test --jobs 20000
//
// Phases: N no-op jobs added one per call from C concurrent callers; N more
// in batches; the worker drains all 2N until its last completion; then jobs
// added at a steady rate into the idle queue, timed from just before the add
// to the task starting. The worker is configured as issue #16 names:
// concurrency 24, localQueue.size 500, completeJobBatchDelay 0. Everything
// lives in a scratch schema that is dropped at the end.

import { performance } from "node:perf_hooks";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { Logger, makeWorkerUtils, run } from "graphile-worker";

const { values: options } = parseArgs({
  options: {
    database: { type: "string", default: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
    jobs: { type: "string", default: "20000" },
    callers: { type: "string", default: "16" },
    batch: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "24" },
    "local-queue": { type: "string", default: "500" },
    "latency-jobs": { type: "string", default: "2000" },
    "latency-rate": { type: "string", default: "500" },
    json: { type: "boolean", default: false },
  },
});
const jobs = Number(options.jobs);
const callers = Number(options.callers);
const batch = Number(options.batch);
const concurrency = Number(options.concurrency);
const localQueueSize = Number(options["local-queue"]);
const latencyJobs = Number(options["latency-jobs"]);
const latencyRate = Number(options["latency-rate"]);
const schema = `gw_bench_${process.pid}`;

// Errors only: the worker logs every job otherwise.
const logger = new Logger(() => (level, message) => {
  if (level === "error") console.error(message);
});

const pool = new pg.Pool({ connectionString: options.database, max: Math.max(callers, 2) });
pool.on("error", (error) => console.error("an idle PostgreSQL connection failed:", error.message));
pool.on("connect", (client) => client.on("error", (error) => console.error("a PostgreSQL connection failed:", error.message)));
const utils = await makeWorkerUtils({ pgPool: pool, schema, logger });
await utils.migrate();

function cpuSeconds() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

function peakRssMiB() {
  const status = readFileSync("/proc/self/status", "utf8");
  const line = status.split("\n").find((l) => l.startsWith("VmHWM:"));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : NaN;
}

// 1. One job per call, from several concurrent callers.
let started = performance.now();
const perCaller = Math.ceil(jobs / callers);
await Promise.all(
  Array.from({ length: callers }, async (_, caller) => {
    const count = Math.max(0, Math.min(perCaller, jobs - caller * perCaller));
    for (let i = 0; i < count; i++) await utils.addJob("count", {});
  }),
);
const enqueueSeconds = (performance.now() - started) / 1000;

// 2. In batches.
started = performance.now();
for (let remaining = jobs; remaining > 0; ) {
  const size = Math.min(remaining, batch);
  await utils.addJobs(Array.from({ length: size }, () => ({ identifier: "count", payload: {} })));
  remaining -= size;
}
const enqueueBatchSeconds = (performance.now() - started) / 1000;

// 3. Drain both sets.
const total = 2 * jobs;
let done = 0;
let reached;
const allDone = new Promise((resolve) => (reached = resolve));
const workerPreset = {
  worker: {
    connectionString: options.database,
    schema,
    concurrentJobs: concurrency,
    maxPoolSize: concurrency + 2,
    pollInterval: 1000,
    localQueue: { size: localQueueSize },
    completeJobBatchDelay: 0,
  },
};
started = performance.now();
let cpuBefore = cpuSeconds();
let runner = await run({
  preset: workerPreset,
  logger,
  noHandleSignals: true,
  taskList: {
    count: async () => {
      done += 1;
      if (done === total) reached();
    },
  },
});
await allDone;
// Wait until every completion is committed (completions may be batched).
for (;;) {
  const { rows } = await pool.query(`select count(*)::int as left from ${schema}._private_jobs`);
  if (rows[0].left === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const drainSeconds = (performance.now() - started) / 1000;
const drainCpuSeconds = cpuSeconds() - cpuBefore;
await runner.stop();

// 4. Latency at a steady, moderate rate on an otherwise idle queue.
const samples = [];
let probed = 0;
let probesDone;
const allProbed = new Promise((resolve) => (probesDone = resolve));
const origin = performance.now();
runner = await run({
  preset: workerPreset,
  logger,
  noHandleSignals: true,
  taskList: {
    probe: async (payload) => {
      samples.push(performance.now() - origin - payload.enqueued_ms);
      probed += 1;
      if (probed === latencyJobs) probesDone();
    },
  },
});
const interval = 1000 / latencyRate;
for (let i = 0; i < latencyJobs; i++) {
  const due = origin + i * interval;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  await utils.addJob("probe", { enqueued_ms: performance.now() - origin });
}
await allProbed;
await runner.stop();
samples.sort((a, b) => a - b);
const percentile = (q) => samples[Math.min(samples.length, Math.max(1, Math.ceil(samples.length * q))) - 1] ?? 0;

await utils.withPgClient((client) => client.query(`drop schema ${schema} cascade`));
await utils.release();
await pool.end();

const report = {
  queue: "graphile-worker 0.17.3",
  database: options.database.replace(/\/\/[^@]*@/, "//"),
  jobs,
  concurrency,
  local_queue: localQueueSize,
  callers,
  batch,
  enqueue_per_sec: Math.round(jobs / enqueueSeconds),
  enqueue_batch_per_sec: Math.round(jobs / enqueueBatchSeconds),
  drain_per_sec: Math.round(total / drainSeconds),
  drain_cpu_us_per_job: Math.round((drainCpuSeconds * 1e7) / total) / 10,
  latency_rate: latencyRate,
  latency_p50_ms: percentile(0.5),
  latency_p99_ms: percentile(0.99),
  latency_max_ms: percentile(1.0),
  peak_rss_mb: peakRssMiB(),
};
if (options.json) {
  console.log(JSON.stringify(report));
} else {
  const rate = (value) => `${Math.round(value).toLocaleString("en-US")} jobs/s`;
  const rows = [
    ["queue", report.queue],
    ["database", report.database],
    [`enqueue, 1 job per call (${callers} callers)`, rate(report.enqueue_per_sec)],
    [`enqueue, batches of ${batch}`, rate(report.enqueue_batch_per_sec)],
    [`drain, concurrency ${concurrency}, local queue ${localQueueSize} (${total} jobs)`, rate(report.drain_per_sec)],
    ["drain CPU per job (Node process only)", `${report.drain_cpu_us_per_job.toFixed(1)} µs`],
    [
      `enqueue→start at ${latencyRate}/s (${latencyJobs} jobs)`,
      `p50 ${report.latency_p50_ms.toFixed(2)} ms · p99 ${report.latency_p99_ms.toFixed(2)} ms · max ${report.latency_max_ms.toFixed(2)} ms`,
    ],
    ["peak RSS", `${report.peak_rss_mb.toFixed(1)} MiB`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
}
