// 10,000 tasks that each sleep 1 s, all in flight at once on one gevent
// worker: the target is all done in under 3 s, on memory and on SQLite.
// Timed from the start of the enqueue to the last result.
//
//   node --import tsx bench/workers/gevent-sleep.ts [--tasks 10000] [--sleep 1000] [--storage memory,sqlite]
import { GeventWorker, OmniQ } from "../../src/index.js";
import { flag, freshStore, report, round } from "./common.js";
import { sleep } from "./tasks.js";

const TASKS = Number(flag("tasks", "10000"));
const SLEEP_MS = Number(flag("sleep", "1000"));
const STORAGES = flag("storage", "memory,sqlite").split(",");

async function run(kind: string): Promise<void> {
  const store = freshStore(kind);
  const producer = await OmniQ.open({ storage: store.url, worker: false, defaultWorker: "gevent" });
  const worker = new GeventWorker({ storage: store.url, concurrency: TASKS, pollInterval: 20 });
  await worker.start();

  const start = performance.now();
  const ids = [];
  for (let i = 0; i < TASKS; i += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, TASKS - i) }, () => sleep.call(SLEEP_MS));
    ids.push(...(await producer.enqueueMany(batch)));
  }
  const enqueued = performance.now();
  await Promise.all(ids.map((id) => producer.getResult(id, { timeout: "5m" })));
  const seconds = (performance.now() - start) / 1000;

  report({
    bench: "gevent-sleep",
    storage: kind,
    tasks: TASKS,
    sleep_ms: SLEEP_MS,
    enqueue_s: round((enqueued - start) / 1000, 2),
    total_s: round(seconds, 2),
    target_s: 3,
    rss_mb: Math.round(process.memoryUsage.rss() / 2 ** 20),
  });
  await worker.stop();
  await producer.close();
  store.remove();
}

for (const kind of STORAGES) await run(kind);
