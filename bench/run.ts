// omniq's own benchmark on the embedded backends: enqueue rate (one at a time
// and in batches), end-to-end no-op throughput, and enqueue-to-start latency.
//
//   npm run bench                      # memory and sqlite
//   npm run bench -- --backend sqlite  # one backend
//   npm run bench -- --jobs 50000
//
// Besides wall-clock rates it reports the CPU time this process spent per
// task, which moves much less than wall-clock time when the machine is busy.
// The side-by-side comparison with other queues is bench/peers-adapter.mjs.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { OmniQ } from "../src/index.js";
import { noop, stamp } from "./tasks.js";

const { values } = parseArgs({
  options: {
    backend: { type: "string", multiple: true },
    jobs: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "50" },
  },
});
const JOBS = Number(values.jobs);
const CONCURRENCY = Number(values.concurrency);
const BACKENDS = values.backend ?? ["memory", "sqlite"];

const nowMs = () => performance.timeOrigin + performance.now();

function freshUrl(backend: string): string {
  if (backend === "memory") return `memory://bench-${Date.now()}`;
  if (backend === "sqlite") {
    const file = join(tmpdir(), `omniq-bench-${process.pid}.db`);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    return `sqlite://${file}`;
  }
  return backend;
}

/** CPU ms this process used while `fn` ran, with the wall-clock seconds. */
async function measure(fn: () => Promise<void>): Promise<{ seconds: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = nowMs();
  await fn();
  const used = process.cpuUsage(cpu);
  return { seconds: (nowMs() - start) / 1000, cpuMs: (used.user + used.system) / 1000 };
}

async function enqueueRates(url: string) {
  const producer = await OmniQ.open({ storage: url, worker: false });
  const single = Math.min(JOBS, 5_000);
  const one = await measure(async () => {
    for (let i = 0; i < single; i++) await producer.enqueue(noop);
  });
  const batch = await measure(async () => {
    for (let i = 0; i < JOBS; i += 1_000) {
      await producer.enqueueMany(
        Array.from({ length: Math.min(1_000, JOBS - i) }, () => noop.call()),
      );
    }
  });
  await producer.close();
  return { single: single / one.seconds, batch: JOBS / batch.seconds };
}

async function throughput(url: string) {
  const producer = await OmniQ.open({ storage: url, worker: false });
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i += 1_000) {
    ids.push(
      ...(await producer.enqueueMany(
        Array.from({ length: Math.min(1_000, JOBS - i) }, () => noop.call()),
      )),
    );
  }
  let worker: OmniQ | undefined;
  const run = await measure(async () => {
    worker = await OmniQ.open({ storage: url, worker: { concurrency: CONCURRENCY } });
    await Promise.all(ids.map((id) => producer.getResult(id)));
  });
  await worker?.close();
  await producer.close();
  return { perSecond: JOBS / run.seconds, cpuUsPerTask: (run.cpuMs * 1000) / JOBS };
}

async function latency(url: string) {
  const omniq = await OmniQ.open({ storage: url, worker: { concurrency: 1 } });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const samples: number[] = [];
  for (let i = 0; i < 500; i++) {
    const id = await omniq.enqueue(stamp, nowMs());
    samples.push(await omniq.getResult(id));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await omniq.close();
  samples.sort((a, b) => a - b);
  const at = (p: number) =>
    samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)] ?? 0;
  return { p50: at(50), p99: at(99) };
}

const rows: string[] = [];
for (const backend of BACKENDS) {
  const enqueue = await enqueueRates(freshUrl(backend));
  const flow = await throughput(freshUrl(backend));
  const lat = await latency(freshUrl(backend));
  rows.push(
    `| ${backend} | ${Math.round(enqueue.single)} | ${Math.round(enqueue.batch)} | ` +
      `${Math.round(flow.perSecond)} | ${flow.cpuUsPerTask.toFixed(1)} | ` +
      `${lat.p50.toFixed(2)} | ${lat.p99.toFixed(2)} |`,
  );
}

console.log(`${JOBS} no-op tasks, worker concurrency ${CONCURRENCY}, Node ${process.version}\n`);
console.log(
  "| backend | enqueue/s, one at a time | enqueue/s, batches of 1,000 | end-to-end tasks/s | CPU µs per task | latency p50 ms | latency p99 ms |",
);
console.log("|---|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
