// A no-op task through each worker type: the round trip of one task at a
// time (enqueue to result, p50 and p99), and the throughput of many.
//
//   node --import tsx bench/workers/noop.ts [--storage memory] [--trips 300] [--jobs 5000] [--types async,gevent,thread,process]
import { fileURLToPath } from "node:url";
import { OmniQ, openStorage, type WorkerType } from "../../src/index.js";
import { createWorker } from "../../src/workers/factory.js";
import { resolveWorkerSettings } from "../../src/workers/options.js";
import { flag, freshStore, percentile, report, round } from "./common.js";
import { noop } from "./tasks.js";

const KIND = flag("storage", "memory");
const TRIPS = Number(flag("trips", "300"));
const JOBS = Number(flag("jobs", "5000"));
const TYPES = flag("types", "async,gevent,thread,process").split(",") as WorkerType[];
const CONCURRENCY: Record<WorkerType, number> = { async: 50, gevent: 1_000, thread: 2, process: 2 };
const TASKS = fileURLToPath(new URL("./tasks.ts", import.meta.url));

async function measure(type: WorkerType): Promise<void> {
  const store = freshStore(KIND);
  const producer = await OmniQ.open({
    storage: store.url,
    worker: false,
    defaultWorker: type,
    pollInterval: 20,
  });
  const storage = await openStorage(store.url);
  const settings = resolveWorkerSettings({
    concurrency: CONCURRENCY[type],
    tasks: [TASKS],
    pollInterval: 20,
  });
  const worker = createWorker(type, storage, settings);
  await worker.start();

  const trips: number[] = [];
  for (let i = 0; i < TRIPS; i += 1) {
    const start = performance.now();
    await producer.getResult(await producer.enqueue(noop), { timeout: "30s" });
    trips.push(performance.now() - start);
  }
  trips.sort((a, b) => a - b);

  const ids = [];
  for (let i = 0; i < JOBS; i += 1_000) {
    ids.push(
      ...(await producer.enqueueMany(
        Array.from({ length: Math.min(1_000, JOBS - i) }, () => noop.call()),
      )),
    );
  }
  const start = performance.now();
  await Promise.all(ids.map((id) => producer.getResult(id, { timeout: "10m" })));
  const seconds = (performance.now() - start) / 1000;

  report({
    bench: "noop",
    type,
    storage: KIND,
    concurrency: worker.concurrency,
    round_trip_p50_ms: round(percentile(trips, 50), 2),
    round_trip_p99_ms: round(percentile(trips, 99), 2),
    jobs: JOBS,
    jobs_per_s: round(JOBS / seconds),
  });
  await worker.stop();
  await storage.close();
  await producer.close();
  store.remove();
}

for (const type of TYPES) await measure(type);
