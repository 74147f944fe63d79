// Tasks that wait for other tasks: a chain passes each result on to the
// next step; a group runs side by side, then one task gathers the results.
import { OmniQ } from "omniq";
import { add, multiply, parseAge, total } from "./tasks.js";

await using omniq = await OmniQ.open({ storage: "sqlite://./.omniq/workflows.db" });

// multiply(2, 3) → add(6, 4): each step gets the previous result first.
const steps = await omniq.chain([multiply.call(2, 3), add.after(4)]);
console.log(`chain: 2 × 3 + 4 = ${await omniq.getResult(steps[1] as string, { timeout: "10s" })}`);

// Fan out three products, fan in their total.
const { final } = await omniq.group(
  [multiply.call(1, 2), multiply.call(3, 4), multiply.call(5, 6)],
  total,
);
console.log(`group: 2 + 12 + 30 = ${await omniq.getResult(final as string, { timeout: "10s" })}`);

// A task that waits for one that fails is cancelled, with the reason.
const bad = await omniq.enqueue(parseAge, "forty");
const after = await omniq.enqueue(add.with({ dependsOn: [bad] }), 1, 2);
await omniq.getResult(after, { timeout: "10s" }).catch(() => undefined);
const waited = await omniq.getTask(after);
console.log(`dependent: ${waited.state} (${waited.lastError?.message.replace(bad, "<id>")})`);
