// The entry of a pool thread (see pool/thread-member.ts).
import { getHeapStatistics } from "node:v8";
import { parentPort } from "node:worker_threads";
import type { ToRuntime } from "./protocol.js";
import { serve } from "./serve.js";

const MB = 1024 * 1024;

const port = parentPort;
if (!port) throw new Error("thread-main runs only in a worker thread started by a ThreadWorker");

serve({
  send: (message) => port.postMessage(message),
  onMessage: (listener) => port.on("message", (message: ToRuntime) => listener(message)),
  memoryMb: () => getHeapStatistics().used_heap_size / MB,
});
