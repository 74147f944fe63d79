import { decodeValue, encodeValue } from "../codec/value.js";
import { UnrunnableTaskError } from "../errors.js";
import type { Storage } from "../storage/contract.js";
import { runAsTask } from "../task/context.js";
import { knownTaskNames, lookupTask } from "../task/define.js";
import { lookupLocal } from "../task/local.js";
import type { ClaimedTask } from "../task/record.js";
import type { WorkerType } from "../task/state.js";
import { type WorkerOptions, type WorkerSettings, resolveWorkerSettings } from "./options.js";
import { importTaskModules } from "./task-modules.js";
import { Worker } from "./worker.js";

/**
 * Runs tasks on the event loop of this process, up to `concurrency` at once:
 * the worker for I/O-bound async tasks. Sync functions run here too, but
 * block the loop while they run.
 */
export class AsyncWorker extends Worker {
  constructor(options: WorkerOptions);
  /** @internal Used by `OmniQ`, which shares its storage and settings. */
  constructor(storage: Storage, settings: WorkerSettings, type?: WorkerType);
  constructor(
    optionsOrStorage: WorkerOptions | Storage,
    settings?: WorkerSettings,
    type: WorkerType = "async",
  ) {
    if (settings) {
      super(type, optionsOrStorage as Storage, settings);
    } else {
      const options = optionsOrStorage as WorkerOptions;
      super(type, options.storage, resolveWorkerSettings(options));
    }
  }

  protected override async prepare(): Promise<void> {
    await importTaskModules(this.settings.tasks);
  }

  protected override async execute(task: ClaimedTask, signal: AbortSignal): Promise<string> {
    const fn = findFunction(task.name);
    const args = decodeArgs(task);
    const context = { id: task.id, name: task.name, queue: task.queue, attempt: task.attempts, signal };

    const result = await runAsTask(context, () => fn(...args));
    return encodeValue(result, "result");
  }
}

function findFunction(name: string): (...args: unknown[]) => unknown {
  const fn = lookupTask(name)?.fn ?? lookupLocal(name);
  if (fn) return fn as (...args: unknown[]) => unknown;

  const known = knownTaskNames();
  throw new UnrunnableTaskError(
    `no task named "${name}" is defined in this worker; it knows ` +
      `${known.length ? known.map((n) => `"${n}"`).join(", ") : "no tasks"}. ` +
      "Load the module that defines it with the worker's `tasks` option.",
  );
}

function decodeArgs(task: ClaimedTask): unknown[] {
  let args: unknown;
  try {
    args = decodeValue(task.payload, "args");
  } catch (error) {
    throw new UnrunnableTaskError(
      `the arguments of task ${task.id} ("${task.name}") cannot be decoded: ${(error as Error).message}`,
    );
  }
  if (!Array.isArray(args)) {
    throw new UnrunnableTaskError(
      `the arguments of task ${task.id} ("${task.name}") are not a list`,
    );
  }
  return args;
}
