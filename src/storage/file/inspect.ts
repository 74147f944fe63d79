// Reading tasks for inspection. Lists and counts read every record file:
// fine for thousands of tasks, slow for millions (a database backend keeps
// indexes for that). Blocked tasks, which the dependency resolver lists
// again and again, are found from their own markers instead.
import type { TaskRecord } from "../../task/record.js";
import type { TaskCounts, TaskFilter, TaskOutcome } from "../contract.js";
import { listNames } from "./fs-sync.js";
import { encodeName } from "./names.js";
import type { StoredTask } from "./records.js";
import type { FileStore } from "./store.js";

export function getTask(store: FileStore, id: string): TaskRecord | null {
  return readById(store, id)?.task ?? null;
}

export function getOutcome(store: FileStore, id: string): TaskOutcome | null {
  const stored = readById(store, id);
  if (!stored) return null;

  const { state, lastError } = stored.task;
  const outcome: TaskOutcome = { state };
  if (state === "completed" && stored.result !== undefined) outcome.result = stored.result;
  if (lastError) outcome.error = lastError;
  return outcome;
}

export function listTasks(store: FileStore, filter: TaskFilter = {}): TaskRecord[] {
  const { queue, state, name, limit = 100, offset = 0 } = filter;
  const matching = (state === "blocked" ? blockedStored(store) : allStored(store)).filter(
    ({ task }) =>
      (queue === undefined || task.queue === queue) &&
      (state === undefined || task.state === state) &&
      (name === undefined || task.name === name),
  );
  matching.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  return matching.slice(offset, offset + limit).map((stored) => stored.task);
}

export function countTasks(store: FileStore): TaskCounts {
  const counts: TaskCounts = {};
  for (const { task } of allStored(store)) {
    const perState = counts[task.queue] ?? {};
    perState[task.state] = (perState[task.state] ?? 0) + 1;
    counts[task.queue] = perState;
  }
  return counts;
}

function readById(store: FileStore, id: string): StoredTask | null {
  const stored = store.records.read(encodeName(id));
  // Two ids could share a hashed file name only by a hash collision; check anyway.
  return stored?.task.id === id ? stored : null;
}

/**
 * The records behind blocked markers, and behind markers held for a moment
 * (a blocked task being changed or enqueued): the dependency resolver lists
 * blocked tasks often, and they are few beside the finished ones.
 */
function blockedStored(store: FileStore): StoredTask[] {
  const idNames = new Set(listNames(store.layout.blocked));
  for (const name of listNames(store.layout.busy)) idNames.add(name.split("@")[0] as string);

  const found: StoredTask[] = [];
  for (const idName of idNames) {
    const stored = store.records.read(idName);
    if (stored) found.push(stored);
  }
  return found;
}

function allStored(store: FileStore): StoredTask[] {
  const found: StoredTask[] = [];
  for (const file of listNames(store.layout.tasks)) {
    if (!file.endsWith(".json")) continue;
    const stored = store.records.read(file.slice(0, -".json".length));
    if (stored) found.push(stored);
  }
  return found;
}
