// Following the lifecycle event log of every task, from any process.
import { OmniQ, type TaskEvent } from "omniq";
import { multiply } from "./tasks.js";

await using omniq = await OmniQ.open({ storage: "sqlite://./.omniq/events.db" });

const seen: TaskEvent[] = [];
const stop = await omniq.subscribe((event) => seen.push(event));
const id = await omniq.enqueue(multiply, 7, 6);
await omniq.getResult(id, { timeout: "5s" });
while (!seen.some((event) => event.type === "completed"))
  await new Promise((r) => setTimeout(r, 10));
stop();

console.log(seen.map((event) => `${event.type}(attempt ${event.attempt})`).join(", "));
