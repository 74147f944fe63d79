// Profiles the end-to-end path (claim, run, settle, getResult) of one
// backend: 40,000 no-op tasks, a worker of concurrency 50, a CPU profile of
// just that phase written to /tmp/omniq-throughput.cpuprofile.
//
//   npx tsx bench/profile.ts sqlite:///tmp/profile.db
//
// Prints tasks/s and the CPU µs this process spent per task; the second moves
// much less than the first when the machine is busy.
import { OmniQ } from "../src/index.js";
import { noop } from "./tasks.js";

const url = process.argv[2] ?? "memory://tp";
const N = 40000;
const producer = await OmniQ.open({ storage: url, worker: false });
const ids: string[] = [];
for (let i = 0; i < N; i += 1000)
  ids.push(...(await producer.enqueueMany(Array.from({ length: 1000 }, () => noop.call()))));
const { Session } = await import("node:inspector/promises");
const s = new Session();
s.connect();
await s.post("Profiler.enable");
await s.post("Profiler.start");
const t0 = performance.now();
const cpu = process.cpuUsage();
const worker = await OmniQ.open({ storage: url, worker: { concurrency: 50 } });
await Promise.all(ids.map((id) => producer.getResult(id)));
const dt = performance.now() - t0;
const c = process.cpuUsage(cpu);
const { profile } = await s.post("Profiler.stop");
(await import("node:fs")).writeFileSync(
  "/tmp/omniq-throughput.cpuprofile",
  JSON.stringify(profile),
);
console.log(
  Math.round((N / dt) * 1000),
  "tasks/s",
  ((c.user + c.system) / N).toFixed(1),
  "cpu us/task",
);
await worker.close();
await producer.close();
