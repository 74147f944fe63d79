import { InvalidArgumentError } from "../errors.js";
import type { Storage } from "../storage/contract.js";
import type { WorkerType } from "../task/state.js";
import { AsyncWorker } from "./async-worker.js";
import type { WorkerSettings } from "./options.js";
import type { Worker } from "./worker.js";

/** Makes the worker of one type for an `OmniQ`, sharing its storage and settings. */
export function createWorker(type: WorkerType, storage: Storage, settings: WorkerSettings): Worker {
  switch (type) {
    case "async":
      return new AsyncWorker(storage, settings);
    default:
      throw new InvalidArgumentError(
        `worker type "${type}" is not available in this version; use "async"`,
      );
  }
}
