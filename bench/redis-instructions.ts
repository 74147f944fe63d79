// Server instructions per task of each Redis operation, counted rather than
// timed: wall time on a shared VM moves by half within an hour, instruction
// counts repeat to within 2%. Runs against a Redis server started under
// valgrind's callgrind (the installed binary will do: only whole totals are
// read, so it needs no symbols):
//
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg/callgrind.out.%p \
//     redis-server --port 6390 --save "" --appendonly no &
//   npx tsx bench/redis-instructions.ts --port 6390 --tasks 3000 --batch 50
//
// Enqueues `--tasks` no-op tasks in batches of 1,000, claims them in batches
// of `--batch`, settles them in the same batches, then looks up every
// task's outcome once, as `getResult` does; callgrind's counters are dumped
// before and after each phase (`callgrind_control -d`). Prints one line per
// phase: instructions per task. The keys it made are deleted at the end.
import { execSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openStorage } from "../src/index.js";
import { newTaskId } from "../src/task/id.js";
import { deleteKeys } from "../test/helpers/redis-keys.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "6390" },
    tasks: { type: "string", default: "3000" },
    batch: { type: "string", default: "50" },
    dumps: { type: "string", default: "/tmp/cg" },
  },
});
const port = Number(values.port);
const total = Number(values.tasks);
const batch = Number(values.batch);
const prefix = `instr${Date.now()}`;
const url = `redis://127.0.0.1:${port}?prefix=${prefix}`;

const serverPid = execSync(`pgrep -f 'valgrind.*redis-server.*${port}' | head -1`)
  .toString()
  .trim();
if (serverPid === "") throw new Error(`no redis-server under valgrind on port ${port}`);

/** Dumps callgrind's counters and answers the instructions counted since the last dump. */
function counted(): number {
  execSync(`callgrind_control -d ${serverPid}`, { stdio: "ignore" });
  const dumps = readdirSync(values.dumps)
    .filter((name) => name.startsWith(`callgrind.out.${serverPid}.`))
    .sort((a, b) => Number(a.split(".").pop()) - Number(b.split(".").pop()));
  const last = dumps.at(-1);
  if (last === undefined) throw new Error(`no callgrind dump of ${serverPid} in ${values.dumps}`);
  const summary = readFileSync(join(values.dumps, last), "utf8").match(/^summary: (\d+)/m);
  return Number(summary?.[1] ?? Number.NaN);
}

async function phase(name: string, run: () => Promise<void>): Promise<void> {
  counted();
  await run();
  console.log(`${name.padEnd(10)} ${Math.round(counted() / total)} instructions/task`);
}

const storage = await openStorage(url);
const noop = (id: string) => ({
  id,
  name: "bench.noop",
  queue: "default",
  priority: 0,
  payload: "[]",
  runAt: Date.now(),
  createdAt: Date.now(),
  maxAttempts: 1,
  timeoutMs: null,
  expiresAt: null,
  resultTtlMs: 86_400_000,
  backoff: null,
  worker: "async" as const,
  module: null,
});
const request = {
  queues: ["default"],
  workers: ["async" as const],
  owner: "bench",
  leaseMs: 30_000,
};

try {
  // One of each first, so that every script is loaded before counting.
  await storage.enqueue([noop(newTaskId(Date.now()))]);
  const [first] = await storage.claim({ ...request, limit: 1 });
  if (first) await storage.settle([{ ...first, outcome: "completed", result: "0" }]);

  const ids: string[] = [];
  await phase("enqueue", async () => {
    for (let i = 0; i < total; i += 1_000) {
      const tasks = Array.from({ length: Math.min(1_000, total - i) }, () =>
        noop(newTaskId(Date.now())),
      );
      ids.push(...(await storage.enqueue(tasks)));
    }
  });
  const claimed: Awaited<ReturnType<typeof storage.claim>> = [];
  await phase(`claim ${batch}`, async () => {
    for (;;) {
      const tasks = await storage.claim({ ...request, limit: batch });
      if (tasks.length === 0) break;
      claimed.push(...tasks);
    }
  });
  await phase(`settle ${batch}`, async () => {
    for (let i = 0; i < claimed.length; i += batch) {
      const ended = claimed.slice(i, i + batch);
      await storage.settle(ended.map((t) => ({ ...t, outcome: "completed", result: "0" })));
    }
  });
  await phase("outcomes", async () => {
    await Promise.all(ids.map((id) => storage.getOutcome(id)));
  });
} finally {
  await storage.close();
  await deleteKeys(`redis://127.0.0.1:${port}`, prefix);
}
