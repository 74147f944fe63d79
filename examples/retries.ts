// Retries with backoff, and an error that says "do not retry".
import { OmniQ, TaskFailedError } from "omniq";
import { flaky, parseAge } from "./tasks.js";

await using omniq = await OmniQ.open({ storage: "sqlite://./.omniq/retries.db" });

const id = await omniq.enqueue(flaky);
console.log(await omniq.getResult(id, { timeout: "10s" }));
const events = await omniq.taskEvents(id);
console.log(events.map((event) => event.type).join(" → "));

try {
  await omniq.getResult(await omniq.enqueue(parseAge, "forty"), { timeout: "10s" });
} catch (error) {
  if (!(error instanceof TaskFailedError)) throw error;
  const task = await omniq.getTask(error.taskId);
  console.log(`failed for good after ${task.attempts} attempt: ${error.remote.message}`);
}
