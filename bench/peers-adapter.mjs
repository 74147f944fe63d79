// omniq's adapter for the shared peer benchmark (../shared/bench, see its
// README): run it beside BullMQ, bee-queue, pg-boss, Graphile Worker and
// plainjob in one compare.sh run with
//
//   npm run build
//   OMNIQ_ADAPTER=$PWD/bench/peers-adapter.mjs ../shared/bench/compare.sh noop plainjob omniq
//
// Options (after --system omniq): --backend sqlite|memory|file|postgres|redis|nats
// (default sqlite), --worker async|thread|process|gevent (default async, and
// thread for the cpu scenario). OMNIQ_STORAGE overrides the storage URL.
//
// Completion is observed the way an application would: getResult() on every
// id, which resolves after the result is stored.
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = join(HERE, "..", "dist", "index.js");
const DATA = process.env.BENCH_DATA_DIR ?? join(HERE, "..", ".omniq", "bench");
const CHUNK = Number(process.env.BENCH_BULK_CHUNK ?? 1000);

export const meta = {
  system: "omniq",
  backend: "sqlite|memory|file|postgres|redis|nats (--backend)",
  version: "omniq (this checkout)",
  scenarios: ["noop", "latency", "cpu"],
};

export async function available() {
  return existsSync(DIST) ? null : `omniq adapter: library not built at ${DIST} (npm run build)`;
}

// Server backends get names of their own for each run: a fresh queue without a purge.
const RUN = `r${process.pid}${Date.now().toString(36)}`;

function storageUrl(backend) {
  if (process.env.OMNIQ_STORAGE) return process.env.OMNIQ_STORAGE;
  switch (backend) {
    case "sqlite":
      return `sqlite://${join(DATA, "omniq-bench.db")}`;
    case "memory":
      return "memory://bench";
    case "file":
      return `file://${join(DATA, "files")}`;
    case "postgres":
      return `${process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"}?schema=omniq_bench_${RUN}`;
    case "redis":
      return `redis://127.0.0.1:6379?prefix=omniq-bench-${RUN}`;
    case "nats":
      return `nats://127.0.0.1:4222?prefix=omniqbench${RUN}`;
    default:
      throw new Error(`omniq adapter: unknown --backend ${backend}`);
  }
}

/**
 * What a run stored on a server backend is removed after it, so that runs do
 * not pile up keys, schemas or streams (a crowded Redis slows every later
 * SCAN, the test suite's cleanup among them). A storage given by
 * OMNIQ_STORAGE is the caller's own and is left alone.
 */
async function removeServerData(backend) {
  if (process.env.OMNIQ_STORAGE) return;
  if (backend === "redis") {
    const { Redis } = await import("ioredis");
    const client = new Redis("redis://127.0.0.1:6379");
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(
        cursor,
        "MATCH",
        `omniq-bench-${RUN}:*`,
        "COUNT",
        1000,
      );
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
    client.disconnect();
  } else if (backend === "postgres") {
    const { default: pg } = await import("pg");
    const client = new pg.Client(
      process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    );
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS omniq_bench_${RUN} CASCADE`);
    await client.end();
  } else if (backend === "nats") {
    const { destroyNatsStorage } = await import(
      join(HERE, "..", "dist", "storage", "nats", "index.js")
    );
    await destroyNatsStorage("nats://127.0.0.1:4222", { prefix: `omniqbench${RUN}` });
  }
}

/** A SQLite file or files folder from an earlier run is removed, so every run starts from an empty queue. */
function removeLocal(url) {
  if (url.startsWith("file://"))
    rmSync(url.slice("file://".length), { recursive: true, force: true });
  if (!url.startsWith("sqlite://")) return;
  for (const suffix of ["", "-wal", "-shm"])
    rmSync(url.slice("sqlite://".length) + suffix, { force: true });
}

export async function create(ctx) {
  const { OmniQ } = await import(DIST);
  const tasks = await import(join(HERE, "peers-tasks.mjs"));
  const backend = String(ctx.opts.backend ?? "sqlite");
  const workerType = String(ctx.opts.worker ?? (ctx.scenario === "cpu" ? "thread" : "async"));
  const storage = storageUrl(backend);
  const notes = [`worker ${workerType}, concurrency ${ctx.concurrency}`, `storage ${backend}`];
  const ids = [];
  const pendingLatencies = [];
  let producer;
  let consumer;

  return {
    notes,
    backend,
    async setup() {
      removeLocal(storage);
      producer = await OmniQ.open({ storage, worker: false, defaultWorker: workerType });
    },
    async enqueueMany(payloads) {
      const calls = payloads.map((p) =>
        ctx.scenario === "cpu" ? tasks.cpu.call(p.iters) : tasks.noop.call(),
      );
      for (let i = 0; i < calls.length; i += CHUNK) {
        ids.push(...(await producer.enqueueMany(calls.slice(i, i + CHUNK))));
      }
      notes.push(`bulk enqueue: enqueueMany, ${CHUNK}/call`);
    },
    async enqueue(p) {
      const id = await producer.enqueue(tasks.stamp, p.t);
      pendingLatencies.push(producer.getResult(id).then((ms) => ctx.onLatency(ms)));
    },
    async startWorker({ concurrency }) {
      consumer = await OmniQ.open({
        storage,
        defaultWorker: workerType,
        worker: { concurrency, types: [workerType], tasks: [join(HERE, "peers-tasks.mjs")] },
      });
    },
    async waitForCompletions(n) {
      if (pendingLatencies.length > 0) {
        await Promise.all(pendingLatencies);
        return;
      }
      await Promise.all(ids.slice(0, n).map((id) => producer.getResult(id)));
    },
    async teardown() {
      await consumer?.close();
      await producer?.close();
      await removeServerData(backend);
    },
  };
}
