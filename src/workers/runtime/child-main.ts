// The entry of a pool child process (see pool/child-member.ts).
import { toErrorInfo } from "../../errors.js";
import type { FromRuntime, ToRuntime } from "./protocol.js";
import { serve } from "./serve.js";

const MB = 1024 * 1024;

const send = process.send?.bind(process);
if (!send) throw new Error("child-main runs only in a child process started by a ProcessWorker");

serve({
  send: (message) => {
    send(message);
  },
  onMessage: (listener) => process.on("message", (message: ToRuntime) => listener(message)),
  memoryMb: () => process.memoryUsage.rss() / MB,
});

// The parent is gone (it stopped, or was killed): whatever runs here has been
// handed back or will be once its lease runs out, so it must not go on.
process.on("disconnect", () => process.exit(0));

// An error no task caught ends this child, as it would by default, but the
// parent learns what it was first, to name it in the task's error.
process.on("uncaughtException", (error) => {
  process.stderr.write(`${error.stack ?? String(error)}\n`);
  const fatal: FromRuntime = { type: "fatal", error: toErrorInfo(error) };
  const timer = setTimeout(() => process.exit(1), 1_000);
  send(fatal, () => {
    clearTimeout(timer);
    process.exit(1);
  });
});
