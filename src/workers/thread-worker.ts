import type { Storage } from "../storage/contract.js";
import type { WorkerOptions, WorkerSettings } from "./options.js";
import { fromArguments } from "./options.js";
import type { SpawnMember } from "./pool/member.js";
import { threadSpawner } from "./pool/thread-member.js";
import { PoolWorker } from "./pool-worker.js";
import { findTsxApi } from "./runtime/entry.js";

/**
 * Runs tasks in a pool of `worker_threads`, one task per thread at a time:
 * the worker for CPU-bound tasks. Each thread imports the `tasks` modules,
 * and the module recorded with a task the first time it meets one it does
 * not know. A thread that crashes fails only its own task and is replaced.
 *
 * ```ts
 * const worker = new ThreadWorker({ storage: "sqlite:///var/omniq.db", tasks: ["./dist/tasks.js"]
 * });
 * await worker.start();
 * ```
 */
export class ThreadWorker extends PoolWorker {
  constructor(options: WorkerOptions);
  /** @internal Used by `OmniQ`, which shares its storage and settings. */
  constructor(storage: Storage, settings: WorkerSettings);
  constructor(optionsOrStorage: WorkerOptions | Storage, settings?: WorkerSettings) {
    const args = fromArguments(optionsOrStorage, settings);
    super("thread", args.source, args.settings);
  }

  protected override spawner(): SpawnMember {
    return threadSpawner({ memoryLimitMb: this.settings.memoryLimitMb, tsxApi: findTsxApi() });
  }
}
