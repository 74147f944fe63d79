// Chains and groups: several calls made into tasks that wait for one
// another, enqueued together in one atomic batch.
import { InvalidArgumentError } from "../errors.js";
import type { Storage } from "../storage/contract.js";
import { isTaskDefinition, type TaskCall } from "../task/define.js";
import { newTaskId } from "../task/id.js";
import type { NewTask } from "../task/record.js";

/** A step of a chain: a call, or a task that takes only the previous step's result. */
export type ChainStep = TaskCall | TaskCall["task"];

/** What `group` made: the members' ids and the final task's, if one was given. */
export interface GroupIds {
  members: string[];
  final: string | null;
}

/**
 * The calls of a chain: each step after the first waits for the one before
 * and gets its result as its first argument, before its own.
 */
export function chainCalls(steps: readonly ChainStep[], now: number): TaskCall[] {
  if (steps.length === 0) throw new InvalidArgumentError("chain: give at least one step");

  let previous: string | null = null;
  return steps.map((step, index) => {
    const call = toCall(step, `chain step ${index}`);
    const id = call.options?.id ?? newTaskId(now);
    const options =
      previous === null
        ? { ...call.options, id }
        : { ...call.options, id, dependsOn: [previous], passResults: "value" as const };
    previous = id;
    return { ...call, options };
  });
}

/**
 * The calls of a group: the members run independently; the final task, if
 * given, waits for all of them and gets their results, as an array in
 * member order, as its first argument.
 */
export function groupCalls(
  members: readonly TaskCall[],
  final: ChainStep | undefined,
  now: number,
): { calls: TaskCall[]; ids: GroupIds } {
  if (members.length === 0) throw new InvalidArgumentError("group: give at least one member");

  const calls = members.map((member, index) => {
    const call = toCall(member, `group member ${index}`);
    return { ...call, options: { ...call.options, id: call.options?.id ?? newTaskId(now) } };
  });
  const ids = calls.map((call) => call.options.id);
  if (final === undefined) return { calls, ids: { members: ids, final: null } };

  const last = toCall(final, "group final task");
  const finalId = last.options?.id ?? newTaskId(now);
  calls.push({
    ...last,
    options: { ...last.options, id: finalId, dependsOn: ids, passResults: "list" },
  });
  return { calls, ids: { members: ids, final: finalId } };
}

function toCall(step: ChainStep, where: string): TaskCall {
  if (typeof step === "function" || isTaskDefinition(step)) return { task: step, args: [] };
  if (step && typeof step === "object" && "task" in step && Array.isArray(step.args)) return step;
  throw new InvalidArgumentError(
    `${where}: expected task.call(...args), a task or a function, got ${typeof step}`,
  );
}

/**
 * A task may depend only on tasks already stored or earlier in its batch,
 * so that no task waits for one that never comes, nor for itself.
 */
export async function checkDependencies(storage: Storage, tasks: readonly NewTask[]) {
  const earlier = new Set<string>();
  for (const task of tasks) {
    for (const id of task.dependencies?.on ?? []) {
      if (earlier.has(id)) continue;
      if (id === task.id || (await storage.getOutcome(id)) === null) {
        throw new InvalidArgumentError(
          `enqueue(${task.name}) option dependsOn: ${id} is not a stored task nor one earlier ` +
            "in the same batch; nothing was stored",
        );
      }
      earlier.add(id);
    }
    earlier.add(task.id);
  }
}
