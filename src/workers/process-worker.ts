import type { Storage } from "../storage/contract.js";
import type { WorkerOptions, WorkerSettings } from "./options.js";
import { fromArguments } from "./options.js";
import { childSpawner } from "./pool/child-member.js";
import type { SpawnMember } from "./pool/member.js";
import { PoolWorker } from "./pool-worker.js";

/**
 * Runs tasks in a pool of child processes (`child_process.fork`), one task
 * per child at a time: for heavy or untrusted work whose crash, leak or
 * `process.exit` must stay out of the worker. Each child imports the `tasks`
 * modules, and the module recorded with a task the first time it meets one
 * it does not know. A child that dies fails only its own task and is replaced.
 */
export class ProcessWorker extends PoolWorker {
  constructor(options: WorkerOptions);
  /** @internal Used by `OmniQ`, which shares its storage and settings. */
  constructor(storage: Storage, settings: WorkerSettings);
  constructor(optionsOrStorage: WorkerOptions | Storage, settings?: WorkerSettings) {
    const args = fromArguments(optionsOrStorage, settings);
    super("process", args.source, args.settings);
  }

  protected override spawner(): SpawnMember {
    return childSpawner({ memoryLimitMb: this.settings.memoryLimitMb });
  }
}
