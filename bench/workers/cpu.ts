// CPU-bound tasks (the ~5 ms unit of ../shared/bench) through a pool of
// threads: raw worker_threads first, as the ceiling, then ThreadWorker on
// each storage. Throughput is timed from a warm pool to the last result.
//
//   node --import tsx bench/workers/cpu.ts [--jobs 2000] [--threads 2] [--storage memory,sqlite] [--rounds 3]
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { OmniQ, ThreadWorker } from "../../src/index.js";
import { flag, freshStore, report, round } from "./common.js";
import { CPU_ITERS, cpu } from "./tasks.js";

const JOBS = Number(flag("jobs", "2000"));
const THREADS = Number(flag("threads", "2"));
const STORAGES = flag("storage", "memory,sqlite").split(",");
const ROUNDS = Number(flag("rounds", "3"));
const TASKS = fileURLToPath(new URL("./tasks.ts", import.meta.url));

/** Jobs per second of a bare pool: each thread takes the next job as it answers. */
async function rawPool(): Promise<number> {
  const threads = Array.from(
    { length: THREADS },
    () => new Worker(new URL("./raw-pool-task.mjs", import.meta.url)),
  );
  await Promise.all(threads.map((t) => new Promise((resolve) => t.once("online", resolve))));

  const start = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let done = 0;
    for (const thread of threads) {
      thread.on("message", () => {
        done += 1;
        if (done === JOBS) resolve();
        else if (sent < JOBS) thread.postMessage({ id: sent++, iters: CPU_ITERS });
      });
      thread.postMessage({ id: sent++, iters: CPU_ITERS });
    }
  });
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(threads.map((t) => t.terminate()));
  return JOBS / seconds;
}

/** Jobs per second of a ThreadWorker with `THREADS` threads, the tasks enqueued beforehand. */
async function threadWorker(kind: string): Promise<number> {
  const store = freshStore(kind);
  const producer = await OmniQ.open({ storage: store.url, worker: false, defaultWorker: "thread" });
  const ids = [];
  for (let i = 0; i < JOBS; i += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, JOBS - i) }, () => cpu.call(CPU_ITERS));
    ids.push(...(await producer.enqueueMany(batch)));
  }
  const worker = new ThreadWorker({
    storage: store.url,
    concurrency: THREADS,
    tasks: [TASKS],
    pollInterval: 20,
  });
  await worker.start();

  const start = performance.now();
  await Promise.all(ids.map((id) => producer.getResult(id, { timeout: "10m" })));
  const seconds = (performance.now() - start) / 1000;

  await worker.stop();
  await producer.close();
  store.remove();
  return JOBS / seconds;
}

for (let round_ = 1; round_ <= ROUNDS; round_ += 1) {
  const raw = await rawPool();
  report({
    bench: "cpu",
    system: "raw worker_threads",
    threads: THREADS,
    jobs: JOBS,
    round: round_,
    jobs_per_s: round(raw),
  });
  for (const kind of STORAGES) {
    const omniq = await threadWorker(kind);
    report({
      bench: "cpu",
      system: "omniq ThreadWorker",
      storage: kind,
      threads: THREADS,
      jobs: JOBS,
      round: round_,
      jobs_per_s: round(omniq),
      of_raw: round(omniq / raw, 3),
    });
  }
}
