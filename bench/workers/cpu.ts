// CPU-bound tasks (the ~5 ms unit of ../shared/bench) through a pool of
// threads: raw worker_threads first, as the ceiling, then ThreadWorker on
// each storage. Throughput is timed from a warm pool to the last task
// finished; main_us_per_job is the main event loop's busy time per task,
// which the two cores share with the threads.
//
//   node --import tsx bench/workers/cpu.ts [--jobs 2000] [--threads 2] [--storage memory,sqlite]
//     [--rounds 3] [--prefetch N]   (tasks held beyond the threads; default: one per thread)
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { OmniQ, openStorage, type Storage, ThreadWorker } from "../../src/index.js";
import { resolveWorkerSettings } from "../../src/workers/options.js";
import { flag, freshStore, report, round } from "./common.js";
import { CPU_ITERS, cpu } from "./tasks.js";

const JOBS = Number(flag("jobs", "2000"));
const THREADS = Number(flag("threads", "2"));
const STORAGES = flag("storage", "memory,sqlite").split(",");
const ROUNDS = Number(flag("rounds", "3"));
const TASKS = fileURLToPath(new URL("./tasks.ts", import.meta.url));
const PREFETCH = process.argv.includes("--prefetch") ? Number(flag("prefetch", "0")) : undefined;

/** Throughput, and the main thread's busy time per job (its share of the two cores). */
interface Measured {
  jobsPerS: number;
  mainUsPerJob: number;
}

/** Jobs per second of a bare pool: each thread takes the next job as it answers. */
async function rawPool(): Promise<Measured> {
  const threads = Array.from(
    { length: THREADS },
    () => new Worker(new URL("./raw-pool-task.mjs", import.meta.url)),
  );
  await Promise.all(threads.map((t) => new Promise((resolve) => t.once("online", resolve))));

  const start = performance.now();
  const before = performance.eventLoopUtilization();
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
  const busyMs = performance.eventLoopUtilization(before).active;
  await Promise.all(threads.map((t) => t.terminate()));
  return { jobsPerS: JOBS / seconds, mainUsPerJob: (busyMs * 1000) / JOBS };
}

/**
 * Resolves once `count` tasks have finished, told by the storage's own
 * signals: waiting with getResult would add the producer's work to the
 * worker's, in the same event loop.
 */
function finished(storage: Storage, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const stop = storage.subscribe?.((signal) => {
      if (signal.type !== "finished") return;
      seen += signal.ids.length;
      if (seen >= count) {
        stop?.();
        resolve();
      }
    });
    if (!stop) throw new Error("this storage sends no signals; use memory or sqlite");
  });
}

/** Jobs per second of a ThreadWorker with `THREADS` threads, the tasks enqueued beforehand. */
async function threadWorker(kind: string): Promise<Measured> {
  const store = freshStore(kind);
  const producer = await OmniQ.open({ storage: store.url, worker: false, defaultWorker: "thread" });
  for (let i = 0; i < JOBS; i += 1_000) {
    await producer.enqueueMany(
      Array.from({ length: Math.min(1_000, JOBS - i) }, () => cpu.call(CPU_ITERS)),
    );
  }
  const storage = await openStorage(store.url);
  const settings = resolveWorkerSettings({
    concurrency: THREADS,
    tasks: [TASKS],
    pollInterval: 20,
  });
  const worker = new ThreadWorker(storage, { ...settings, prefetch: PREFETCH });
  await worker.start();

  const start = performance.now();
  const before = performance.eventLoopUtilization();
  await finished(storage, JOBS);
  const seconds = (performance.now() - start) / 1000;
  const busyMs = performance.eventLoopUtilization(before).active;

  const counts = await storage.countTasks();
  if (counts.default?.completed !== JOBS)
    throw new Error(`not all completed: ${JSON.stringify(counts)}`);

  await worker.stop();
  await storage.close();
  await producer.close();
  store.remove();
  return { jobsPerS: JOBS / seconds, mainUsPerJob: (busyMs * 1000) / JOBS };
}

for (let round_ = 1; round_ <= ROUNDS; round_ += 1) {
  const raw = await rawPool();
  const base = { bench: "cpu", threads: THREADS, jobs: JOBS, round: round_ };
  report({
    ...base,
    system: "raw worker_threads",
    jobs_per_s: round(raw.jobsPerS),
    main_us_per_job: round(raw.mainUsPerJob),
  });
  for (const kind of STORAGES) {
    const omniq = await threadWorker(kind);
    report({
      ...base,
      system: "omniq ThreadWorker",
      storage: kind,
      prefetch: PREFETCH ?? THREADS,
      jobs_per_s: round(omniq.jobsPerS),
      of_raw: round(omniq.jobsPerS / raw.jobsPerS, 3),
      main_us_per_job: round(omniq.mainUsPerJob),
    });
  }
}
