// Queues read in priority order, priorities within a queue, and delays.
import { OmniQ } from "omniq";
import { greet } from "./tasks.js";

// A producer that runs nothing, so the order is decided only when the worker starts.
await using producer = await OmniQ.open({
  storage: "sqlite://./.omniq/scheduling.db",
  worker: false,
});
const later = await producer.enqueue(greet.with({ delay: "300ms" }), "later");
const low = await producer.enqueue(greet.with({ queue: "low" }), "low");
const urgent = await producer.enqueue(greet.with({ queue: "high", priority: 10 }), "urgent");
const high = await producer.enqueue(greet.with({ queue: "high" }), "high");

await using worker = await OmniQ.open({
  storage: "sqlite://./.omniq/scheduling.db",
  worker: { queues: ["high", "low", "default"], concurrency: 1 },
});
// Start times can share a millisecond; the log's sequence numbers cannot.
const order: number[] = [];
for (const id of [later, low, urgent, high]) {
  await worker.getResult(id, { timeout: "5s" });
  const started = (await worker.taskEvents(id)).find((event) => event.type === "executing");
  order.push(started?.seq ?? 0);
}
const names = ["later", "low", "urgent", "high"];
const sorted = names.map((name, i) => ({ name, at: order[i] ?? 0 })).sort((a, b) => a.at - b.at);
console.log(`ran in this order: ${sorted.map((task) => task.name).join(", ")}`);
