// Cancelling a running task: its AbortSignal fires and it ends as cancelled.
import { OmniQ, TaskCancelledError } from "omniq";
import { waitForever } from "./tasks.js";

await using omniq = await OmniQ.open({ storage: "sqlite://./.omniq/cancel.db" });

const id = await omniq.enqueue(waitForever);
while ((await omniq.getTask(id)).state !== "running") await new Promise((r) => setTimeout(r, 10));
console.log(`cancel: ${await omniq.cancel(id, "no longer needed")}`);

try {
  await omniq.getResult(id, { timeout: "5s" });
} catch (error) {
  if (!(error instanceof TaskCancelledError)) throw error;
  console.log(`state: ${(await omniq.getTask(id)).state}`);
}
