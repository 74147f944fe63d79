// Keeping a queue in check: idempotency keys, pausing, limits that hold
// across every worker, and the dead letters of tasks that failed for good.
import { OmniQ } from "omniq";
import { multiply, parseAge } from "./tasks.js";

await using omniq = await OmniQ.open({ storage: "sqlite://./.omniq/flow-control.db" });

// The same key while the first task lives: one task, one id.
const invoice = multiply.with({ idempotencyKey: "invoice-42" });
const [first, second] = [await omniq.enqueue(invoice, 6, 7), await omniq.enqueue(invoice, 6, 7)];
console.log(`same key, same task: ${first === second}; result ${await omniq.getResult(first)}`);

// A paused queue holds its tasks until it is resumed.
await omniq.pauseQueue("default");
const held = await omniq.enqueue(multiply, 2, 21);
await new Promise((resolve) => setTimeout(resolve, 200));
console.log(`while paused: ${(await omniq.getTask(held)).state}`);
await omniq.resumeQueue("default");
console.log(`resumed: ${await omniq.getResult(held, { timeout: "10s" })}`);

// At most 2 at once and 100 a minute, over all workers of the queue.
await omniq.setQueueLimits("default", { concurrency: 2, rateLimit: { max: 100, interval: "1m" } });
console.log(`limits: ${JSON.stringify((await omniq.queueControls()).default)}`);
await omniq.setQueueLimits("default", { concurrency: null, rateLimit: null });

// Failed for good: kept, listed, retried or purged.
const bad = await omniq.enqueue(parseAge, "forty");
await omniq.getResult(bad, { timeout: "10s" }).catch(() => undefined);
const [dead] = await omniq.listDeadLetters();
console.log(
  `dead letter: ${dead?.name} after ${dead?.attempts} attempt: ${dead?.lastError?.message}`,
);
console.log(`retry: ${await omniq.retry(bad)}`);
await omniq.getResult(bad, { timeout: "10s" }).catch(() => undefined);
console.log(`purged: ${await omniq.purge({ states: ["failed"] })}`);
