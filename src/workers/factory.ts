import type { Storage } from "../storage/contract.js";
import type { WorkerType } from "../task/state.js";
import { AsyncWorker } from "./async-worker.js";
import { GeventWorker } from "./gevent-worker.js";
import type { WorkerSettings } from "./options.js";
import { ProcessWorker } from "./process-worker.js";
import { ThreadWorker } from "./thread-worker.js";
import type { Worker } from "./worker.js";

/** Makes the worker of one type, sharing a storage and settings (of `OmniQ` or the CLI). */
export function createWorker(type: WorkerType, storage: Storage, settings: WorkerSettings): Worker {
  switch (type) {
    case "async":
      return new AsyncWorker(storage, settings);
    case "gevent":
      return new GeventWorker(storage, settings);
    case "thread":
      return new ThreadWorker(storage, settings);
    case "process":
      return new ProcessWorker(storage, settings);
  }
}
