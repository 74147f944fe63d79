// The OmniQ facade's task operations beyond a single storage call: writing
// a batch of new tasks, and showing a stored task with its arguments.
import { decodeValue } from "../codec/value.js";
import { InvalidArgumentError } from "../errors.js";
import type { Storage } from "../storage/contract.js";
import type { NewTask, TaskRecord } from "../task/record.js";
import type { TaskInfo } from "./types.js";
import type { Unfinished } from "./unfinished.js";

/**
 * Writes new tasks through the storage or, with `within`, through the
 * application's own connection inside its open transaction. Tasks written
 * through the storage are noted in `unfinished` first, and forgotten again
 * where they were not stored under their own id.
 */
export async function writeTasks(
  storage: Storage,
  tasks: readonly NewTask[],
  within: unknown,
  unfinished: Unfinished | null = null,
): Promise<string[]> {
  if (within === undefined) return enqueueNoted(storage, tasks, unfinished);
  if (storage.enqueueWithin) return storage.enqueueWithin(within, tasks);
  throw new InvalidArgumentError(
    "enqueueMany within a transaction needs a backend that shares the application's " +
      "database (postgres://); this storage cannot take part in your transaction",
  );
}

async function enqueueNoted(
  storage: Storage,
  tasks: readonly NewTask[],
  unfinished: Unfinished | null,
): Promise<string[]> {
  if (unfinished === null) return storage.enqueue(tasks);

  const ids = tasks.map((task) => task.id);
  unfinished.note(ids);
  try {
    const answered = await storage.enqueue(tasks);
    // A task whose idempotency key was held answers the holder's id instead.
    unfinished.forget(ids.filter((id, i) => answered[i] !== id));
    return answered;
  } catch (error) {
    unfinished.forget(ids);
    throw error;
  }
}

/** The record as `getTask` shows it: its arguments decoded, or undefined when they cannot be. */
export function taskInfo(record: TaskRecord): TaskInfo {
  const { payload, ...rest } = record;
  let args: unknown[] | undefined;
  try {
    args = decodeValue(payload, "args") as unknown[];
  } catch {
    args = undefined;
  }
  return { ...rest, args };
}
