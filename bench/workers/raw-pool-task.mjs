// The raw worker_threads baseline of cpu.ts: burn and answer, nothing else.
import { parentPort } from "node:worker_threads";

function burn(iters) {
  let x = 0;
  for (let i = 0; i < iters; i++) {
    x = (Math.imul(x, 31) + i) | 0;
    x ^= x >>> 13;
  }
  return x;
}

parentPort.on("message", ({ id, iters }) => parentPort.postMessage({ id, result: burn(iters) }));
