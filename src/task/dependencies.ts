// The dependency resolver: moves blocked tasks on once the tasks they
// depend on have completed, and cancels them, naming the culprit, once one
// of those can no longer complete. It works on any backend through the
// storage contract (listTasks, getOutcome, unblock, cancel), so that
// backends only keep blocked tasks out of claims.
import { decodeValue, encodeValue } from "../codec/value.js";
import { UnrunnableTaskError } from "../errors.js";
import type { Storage, TaskOutcome } from "../storage/contract.js";
import type { ClaimedTask, TaskRecord } from "./record.js";

/** Blocked tasks read per page; a round reads at most `MAX_PAGES` pages. */
const PAGE = 500;
const MAX_PAGES = 20;

/** What one round of the resolver did. */
export interface ResolveReport {
  /** Blocked tasks looked at. */
  blocked: number;
  unblocked: number;
  cancelled: number;
}

/** One round over the blocked tasks. */
export async function resolveDependencies(storage: Storage, now: number): Promise<ResolveReport> {
  const report: ResolveReport = { blocked: 0, unblocked: 0, cancelled: 0 };
  const outcomes = new Map<string, TaskOutcome | null>();
  const ready: string[] = [];

  for (let page = 0; page < MAX_PAGES; page++) {
    // Tasks cancelled in this round leave the blocked list at once; those
    // found ready stay in it until the one unblock at the end.
    const offset = page * PAGE - report.cancelled;
    const blocked = await storage.listTasks({ state: "blocked", limit: PAGE, offset });
    report.blocked += blocked.length;

    for (const task of blocked) {
      const verdict = await judge(storage, task, outcomes, now);
      if (verdict === "ready") ready.push(task.id);
      else if (verdict !== "waiting") {
        await storage.cancel(task.id, verdict);
        outcomes.set(task.id, { state: "cancelled" });
        report.cancelled += 1;
      }
    }
    if (blocked.length < PAGE) break;
  }

  if (ready.length > 0) report.unblocked = (await storage.unblock(ready)).length;
  return report;
}

/**
 * `ready` when every dependency completed (or the task's time-to-live
 * passed, so that maintain expires it), `waiting` while some have not
 * ended, else the reason to cancel it.
 */
async function judge(
  storage: Storage,
  task: TaskRecord,
  outcomes: Map<string, TaskOutcome | null>,
  now: number,
): Promise<string> {
  if (task.expiresAt !== null && task.expiresAt <= now) return "ready";

  let waiting = false;
  for (const id of task.dependencies?.on ?? []) {
    let outcome = outcomes.get(id);
    if (outcome === undefined) {
      outcome = await storage.getOutcome(id);
      outcomes.set(id, outcome);
    }
    if (outcome === null) return `dependency ${id} is unknown (never stored, or deleted)`;
    if (outcome.state === "completed") continue;
    if (
      outcome.state === "failed" ||
      outcome.state === "cancelled" ||
      outcome.state === "expired"
    ) {
      return `dependency ${id} ${outcome.state === "failed" ? "failed for good" : `was ${outcome.state}`}`;
    }
    waiting = true;
  }
  return waiting ? "waiting" : "ready";
}

/** Whether a claimed task takes its dependencies' results as an argument. */
export function takesResults(task: ClaimedTask): boolean {
  const pass = task.dependencies?.pass;
  return pass === "value" || pass === "list";
}

/**
 * The task with its dependencies' results put before its own arguments:
 * the one result (`value`) or an array of all (`list`). Throws
 * `UnrunnableTaskError` when a result is gone (its time-to-live passed).
 */
export async function withResults(storage: Storage, task: ClaimedTask): Promise<ClaimedTask> {
  const dependencies = task.dependencies;
  if (!dependencies) return task;

  const results: unknown[] = [];
  for (const id of dependencies.on) {
    const outcome = await storage.getOutcome(id);
    if (outcome?.state !== "completed" || outcome.result === undefined) {
      throw new UnrunnableTaskError(
        `task ${task.id} takes the result of ${id}, which is no longer stored ` +
          `(state ${outcome?.state ?? "unknown"}); keep results longer with the resultTtl option`,
      );
    }
    results.push(decodeValue(outcome.result, `result of ${id}`));
  }

  const args = decodeValue(task.payload, "args") as unknown[];
  const given = dependencies.pass === "list" ? [results] : results.slice(0, 1);
  return { ...task, payload: encodeValue([...given, ...args], "args") };
}
