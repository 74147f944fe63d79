// The OmniQ facade's task operations beyond a single storage call: writing
// a batch of new tasks, and showing a stored task with its arguments.
import { decodeValue } from "../codec/value.js";
import { InvalidArgumentError } from "../errors.js";
import type { Storage } from "../storage/contract.js";
import type { NewTask, TaskRecord } from "../task/record.js";
import type { TaskInfo } from "./types.js";

/**
 * Writes new tasks through the storage or, with `within`, through the
 * application's own connection inside its open transaction.
 */
export function writeTasks(
  storage: Storage,
  tasks: readonly NewTask[],
  within: unknown,
): Promise<string[]> {
  if (within === undefined) return storage.enqueue(tasks);
  if (storage.enqueueWithin) return storage.enqueueWithin(within, tasks);
  throw new InvalidArgumentError(
    "enqueueMany within a transaction needs a backend that shares the application's " +
      "database (postgres://); this storage cannot take part in your transaction",
  );
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
