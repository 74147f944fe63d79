import { InvalidArgumentError } from "../../errors.js";
import { FINAL_STATES, type TaskState } from "../../task/state.js";

/**
 * Refuses a purge of states that are not final: only finished tasks may be
 * deleted. Every backend calls it before it deletes anything.
 */
export function checkPurgeStates(states: readonly TaskState[]): void {
  const wrong = states.filter((state) => !FINAL_STATES.includes(state));
  if (wrong.length > 0) {
    throw new InvalidArgumentError(
      `purge: states ${wrong.join(", ")} are not final; allowed: ${FINAL_STATES.join(", ")}`,
    );
  }
  if (states.length === 0) {
    throw new InvalidArgumentError(`purge: no states given; allowed: ${FINAL_STATES.join(", ")}`);
  }
}
