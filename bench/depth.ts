// Claim rate at depth: how fast a worker claims while 1,000 tasks wait,
// against while 1,000,000 wait, on each backend. The target is a rate at
// 1,000,000 within 20% of the rate at 1,000.
//
//   npx tsx bench/depth.ts                                  # every backend
//   npx tsx bench/depth.ts --backend postgres --backend nats
//   npx tsx bench/depth.ts --claims 20000 --batch 100 --deep 1000000
//
// Each backend gets two fresh stores, one filled to the shallow depth and one
// to the deep one (batch enqueues). Then the same number of tasks is claimed
// from each, in batches of `--batch` (a worker's claim size), in interleaved
// rounds so that a busy machine slows both alike. Depth is held steady: after
// each claim its tasks are completed and as many new ones enqueued, as a
// producer keeping pace would; only the claim calls are timed. Besides
// claims/s it reports the CPU µs this process spent per claimed task, and the
// p50 and p99 of one claim call. Prints one JSON line per backend and depth,
// then one with the ratio. Everything it made (files, schemas, keys,
// streams) is deleted at the end, also after a failure.
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import type { NewTask, Storage } from "../src/index.js";
import { openStorage } from "../src/index.js";
import { destroyNatsStorage } from "../src/storage/nats/index.js";
import { newTaskId } from "../src/task/id.js";

const { values } = parseArgs({
  options: {
    backend: { type: "string", multiple: true },
    claims: { type: "string", default: "20000" },
    batch: { type: "string", default: "100" },
    shallow: { type: "string", default: "1000" },
    deep: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "4" },
  },
});
const CLAIMS = Number(values.claims);
const BATCH = Number(values.batch);
const DEPTHS = [Number(values.shallow), Number(values.deep)];
const ROUNDS = Number(values.rounds);
const BACKENDS = values.backend ?? ["memory", "sqlite", "file", "postgres", "redis", "nats"];

const POSTGRES_URL =
  process.env.OMNIQ_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.OMNIQ_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const NATS_URL = process.env.OMNIQ_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const DAY = 86_400_000;

/** A store made for one depth, and how to delete it afterwards. */
interface Store {
  url: string;
  remove(): Promise<void>;
}

function makeStore(backend: string, label: string): Store {
  const name = `omniq-depth-${label}-${randomUUID().slice(0, 8)}`;
  const schema = name.replaceAll("-", "_");
  switch (backend) {
    case "memory":
      return { url: `memory://${name}`, remove: async () => {} };
    case "sqlite": {
      const file = join(tmpdir(), `${name}.db`);
      const remove = async () => {
        for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
      };
      return { url: `sqlite://${file}`, remove };
    }
    case "file": {
      const dir = join(tmpdir(), name);
      return {
        url: `file://${dir}`,
        remove: async () => rmSync(dir, { recursive: true, force: true }),
      };
    }
    case "postgres":
      return { url: `${POSTGRES_URL}?schema=${schema}`, remove: () => dropSchema(schema) };
    case "redis":
      return { url: `${REDIS_URL}?prefix=${name}`, remove: () => deleteRedisKeys(name) };
    case "nats":
      return {
        url: `${NATS_URL}?prefix=${name}`,
        remove: () => destroyNatsStorage(NATS_URL, { prefix: name }),
      };
    default:
      throw new Error(
        `unknown backend "${backend}"; use memory, sqlite, file, postgres, redis or nats`,
      );
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 10_000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}

function newTask(now: number): NewTask {
  return {
    id: newTaskId(now),
    name: "bench.depth.noop",
    queue: "default",
    priority: 0,
    payload: "[]",
    runAt: now,
    createdAt: now,
    maxAttempts: 1,
    timeoutMs: null,
    expiresAt: null,
    resultTtlMs: DAY,
    backoff: null,
    worker: "async",
    module: null,
  };
}

/** Enqueues `count` due tasks in batches (NATS: one batch must fit one server message). */
async function fill(storage: Storage, backend: string, count: number): Promise<number> {
  const size = backend === "nats" ? 2_000 : 5_000;
  const start = performance.now();
  for (let done = 0; done < count; done += size) {
    const now = Date.now();
    await storage.enqueue(Array.from({ length: Math.min(size, count - done) }, () => newTask(now)));
  }
  return count / ((performance.now() - start) / 1000);
}

/** What the timed claims of one store added up to. */
interface Tally {
  claimed: number;
  claimMs: number;
  cpuUs: number;
  calls: number[];
}

/** Claims `count` tasks in batches, completing each batch and enqueuing as many new tasks, untimed. */
async function claimRound(storage: Storage, count: number, tally: Tally): Promise<void> {
  let claimed = 0;
  while (claimed < count) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const tasks = await storage.claim({
      queues: ["default"],
      workers: ["async"],
      limit: Math.min(BATCH, count - claimed),
      owner: "bench-depth",
      leaseMs: 60_000,
    });
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (tasks.length === 0) throw new Error("a claim found nothing: the store ran dry");

    tally.claimMs += ms;
    tally.cpuUs += used.user + used.system;
    tally.calls.push(ms);
    tally.claimed += tasks.length;
    claimed += tasks.length;

    await storage.settle(
      tasks.map((t) => ({ id: t.id, token: t.token, outcome: "completed" as const, result: "0" })),
    );
    const now = Date.now();
    await storage.enqueue(tasks.map(() => newTask(now)));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function runBackend(backend: string): Promise<void> {
  const stores = DEPTHS.map((depth) => makeStore(backend, String(depth)));
  const opened: Storage[] = [];
  try {
    for (const store of stores) opened.push(await openStorage(store.url));
    const fillRates: number[] = [];
    for (const [i, storage] of opened.entries()) {
      fillRates.push(await fill(storage, backend, DEPTHS[i] as number));
    }

    // A short warm-up (JIT, prepared statements, first index loads), not counted.
    const warm: Tally = { claimed: 0, claimMs: 0, cpuUs: 0, calls: [] };
    for (const storage of opened) await claimRound(storage, BATCH * 5, warm);

    const tallies: Tally[] = opened.map(() => ({ claimed: 0, claimMs: 0, cpuUs: 0, calls: [] }));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [i, storage] of opened.entries()) {
        await claimRound(storage, Math.ceil(CLAIMS / ROUNDS), tallies[i] as Tally);
      }
    }

    const rates = tallies.map((t) => t.claimed / (t.claimMs / 1000));
    for (const [i, tally] of tallies.entries()) {
      const calls = [...tally.calls].sort((a, b) => a - b);
      console.log(
        JSON.stringify({
          backend,
          depth: DEPTHS[i],
          claims: tally.claimed,
          batch: BATCH,
          claimsPerSecond: Math.round(rates[i] as number),
          cpuUsPerClaim: Number((tally.cpuUs / tally.claimed).toFixed(1)),
          callP50Ms: Number(percentile(calls, 50).toFixed(2)),
          callP99Ms: Number(percentile(calls, 99).toFixed(2)),
          fillPerSecond: Math.round(fillRates[i] as number),
        }),
      );
    }
    const ratio = (rates[1] as number) / (rates[0] as number);
    const cpuPerClaim = tallies.map((t) => t.cpuUs / t.claimed);
    console.log(
      JSON.stringify({
        backend,
        ratio: Number(ratio.toFixed(3)),
        cpuRatio: Number(((cpuPerClaim[1] as number) / (cpuPerClaim[0] as number)).toFixed(3)),
        withinTarget: ratio >= 0.8,
      }),
    );
  } finally {
    for (const storage of opened) await storage.close().catch(() => {});
    for (const store of stores) await store.remove().catch((error) => console.error(error));
  }
}

console.log(
  JSON.stringify({
    claims: CLAIMS,
    batch: BATCH,
    depths: DEPTHS,
    rounds: ROUNDS,
    node: process.version,
  }),
);
for (const backend of BACKENDS) await runBackend(backend);
