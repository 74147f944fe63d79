import { decodeValue } from "../codec/value.js";
import { UnrunnableTaskError } from "../errors.js";
import { knownTaskNames, lookupTask, type TaskDefinition } from "../task/define.js";
import { lookupLocal } from "../task/local.js";
import { type ImportOptions, importRecordedModule } from "./task-modules.js";

/** A task function as a worker calls it. */
export type TaskFunction = (...args: unknown[]) => unknown;

/** What a worker knows of a task it is about to run. */
export interface TaskRef {
  id: string;
  name: string;
  module: string | null;
  payload: string;
}

/**
 * The function registered under the task's name, here or (for a name not
 * yet known) after importing the module recorded with the task.
 *
 * @throws {UnrunnableTaskError} saying which names are known and how to load the module.
 */
export async function findTaskFunction(
  task: Pick<TaskRef, "name" | "module">,
  options: ImportOptions = {},
): Promise<TaskFunction> {
  const known = knownFunction(task.name);
  if (known) return known;

  if (task.module) {
    await importRecordedModule(task.module, options);
    const loaded = knownFunction(task.name);
    if (loaded) return loaded;
  }
  throw unknownTask(task.name);
}

/** The function under `name` if this process or thread has it already. */
export function knownFunction(name: string): TaskFunction | undefined {
  return (lookupTask(name)?.fn ?? lookupLocal(name)) as TaskFunction | undefined;
}

/** The definition under `name`, for its options (a backoff function). */
export function knownDefinition(name: string): TaskDefinition | undefined {
  return lookupTask(name);
}

function unknownTask(name: string): UnrunnableTaskError {
  const known = knownTaskNames();
  return new UnrunnableTaskError(
    `no task named "${name}" is defined in this worker; it knows ` +
      `${known.length ? known.map((n) => `"${n}"`).join(", ") : "no tasks"}. ` +
      "Load the module that defines it with the worker's `tasks` option.",
  );
}

/** The task's argument list, decoded. */
export function decodeArgs(task: Pick<TaskRef, "id" | "name" | "payload">): unknown[] {
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

/** True for functions declared `async`: they return at their first `await`. */
export function isAsyncFunction(fn: TaskFunction): boolean {
  return fn.constructor?.name === "AsyncFunction";
}
