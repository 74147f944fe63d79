// How a large typed-array result should leave a thread. (a) omniq's way:
// the thread encodes it for storage and posts the text. (b) the thread
// posts the array with its buffer in the transfer list (no copy) and the
// main thread encodes it. Storage needs the text either way; what differs
// is how long the main thread (which claims and settles every task) is busy:
// its event loop's active time, receiving included.
//
//   node --import tsx bench/workers/result-transfer.ts [--mb 16] [--rounds 10]
import { Worker } from "node:worker_threads";
import { encodeValue } from "../../src/index.js";
import { flag, report, round } from "./common.js";

const MB = Number(flag("mb", "16"));
const ROUNDS = Number(flag("rounds", "10"));

type Mode = "encode-in-thread" | "encode-send-bytes" | "transfer";

// encodeValue is "dv1:" + devalue's stringify for a typed array.
const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
parentPort.on("message", async ({ mode, length }) => {
  const values = new Float64Array(length).fill(1.5);
  if (mode === "transfer") return parentPort.postMessage(values, [values.buffer]);
  const { stringify } = await import(workerData.devalue);
  const text = "dv1:" + stringify(values);
  if (mode === "encode-in-thread") return parentPort.postMessage(text);
  const bytes = Buffer.from(text, "utf8");
  parentPort.postMessage(bytes, [bytes.buffer]);
});
`;

async function measure(mode: Mode) {
  const thread = new Worker(THREAD, {
    eval: true,
    workerData: { devalue: import.meta.resolve("devalue") },
  });
  const length = (MB * 2 ** 20) / 8;
  let total = 0;
  let main = 0;
  await roundTrip(thread, mode, length); // warm-up: imports and JIT
  for (let i = 0; i < ROUNDS; i += 1) {
    const start = performance.now();
    const before = performance.eventLoopUtilization();
    await roundTrip(thread, mode, length);
    total += performance.now() - start;
    main += performance.eventLoopUtilization(before).active;
  }
  await thread.terminate();
  return { round_trip_ms: round(total / ROUNDS), main_thread_busy_ms: round(main / ROUNDS) };
}

/** One result, encoded for storage on whichever side `mode` says. */
async function roundTrip(thread: Worker, mode: string, length: number): Promise<void> {
  const reply = await new Promise<unknown>((resolve) => {
    thread.once("message", resolve);
    thread.postMessage({ mode, length });
  });
  const text =
    typeof reply === "string"
      ? reply
      : mode === "encode-send-bytes"
        ? Buffer.from(reply as Uint8Array).toString("utf8")
        : encodeValue(reply, "result");
  if (!text.startsWith("dv1:")) throw new Error("not encoded");
}

for (const mode of ["encode-in-thread", "encode-send-bytes", "transfer"] as const) {
  report({ bench: "result-transfer", mode, mb: MB, ...(await measure(mode)) });
}
