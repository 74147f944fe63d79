import type { TaskState } from "../../task/state.js";
import type { TaskOutcome } from "../contract.js";
import { decodeError } from "./rows.js";
import type { Statements } from "./statements.js";

/**
 * A row of `Statements.outcomes` (raw mode): where its id stands in the list, and the task's end.
 */
export type OutcomeTuple = [
  position: number,
  state: string,
  result: string | null,
  lastError: string | null,
];

/** The outcomes of `ids` in one statement, in their order; null for an unknown id. */
export function readOutcomes(
  statements: Statements,
  ids: readonly string[],
): (TaskOutcome | null)[] {
  const outcomes = new Array<TaskOutcome | null>(ids.length).fill(null);
  for (const [position, state, result, lastError] of statements.outcomes.all(JSON.stringify(ids))) {
    outcomes[position] = toOutcome(state, result, lastError);
  }
  return outcomes;
}

function toOutcome(state: string, result: string | null, lastError: string | null): TaskOutcome {
  const outcome: TaskOutcome = { state: state as TaskState };
  if (state === "completed" && result !== null) outcome.result = result;
  const error = decodeError(lastError);
  if (error !== null) outcome.error = error;
  return outcome;
}
