import type { NewTask } from "../../task/record.js";
import type { ScriptArg } from "./connection.js";
import { enqueueValues } from "./hash.js";

/** One task's extras for the enqueue script (see scripts/enqueue-keys.ts). */
type Extra = [index: number, key: string | null, blocked: 0 | 1];

/**
 * The enqueue script's arguments after `head` (base and batch id), and
 * whether the batch is plain: no task with an idempotency key or
 * dependencies, so the script's extras argument is left out and a single
 * task may take the lighter script.
 */
export function enqueueArgs(
  head: readonly ScriptArg[],
  tasks: readonly NewTask[],
): { args: ScriptArg[]; plain: boolean } {
  const args: ScriptArg[] = [...head, tasks.length];
  const extras: Extra[] = [];
  tasks.forEach((task, i) => {
    args.push(...enqueueValues(task));
    const blocked = (task.dependencies?.on.length ?? 0) > 0;
    const key = task.idempotencyKey ?? null;
    if (blocked || key !== null) extras.push([i, key, blocked ? 1 : 0]);
  });
  if (extras.length > 0) args.push(JSON.stringify(extras));
  return { args, plain: extras.length === 0 };
}

/**
 * The ids `enqueue` answers: each task's own, but the holder's for a task
 * dropped because its key was held. `dropped` is the script's answer, a
 * flat list of [index, holder id].
 */
export function enqueuedIds(tasks: readonly NewTask[], dropped: readonly unknown[]): string[] {
  const ids = tasks.map((task) => task.id);
  for (let i = 0; i + 1 < dropped.length; i += 2) {
    ids[Number(dropped[i])] = String(dropped[i + 1]);
  }
  return ids;
}
