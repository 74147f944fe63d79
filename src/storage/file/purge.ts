// Deleting finished tasks on demand. Finished markers are filed by when
// their results may be deleted, not by when they finished, so a purge reads
// the record behind every finished marker: it is meant for an operator's
// clean-up, not a hot path.
import { join } from "node:path";
import { InvalidArgumentError } from "../../errors.js";
import { isFinal, type TaskState } from "../../task/state.js";
import type { PurgeFilter } from "../contract.js";
import { ChangeSet } from "./changes.js";
import { listNames } from "./fs-sync.js";
import { parseDoneName } from "./names.js";
import type { StoredTask } from "./records.js";
import type { FileStore } from "./store.js";

const DEFAULT_LIMIT = 1_000;

/** Deletes up to the filter's limit of matching finished tasks with their results. */
export function purge(store: FileStore, filter: PurgeFilter): number {
  const wrong = filter.states.find((state) => !isFinal(state));
  if (wrong !== undefined) {
    throw new InvalidArgumentError(
      `purge deletes finished tasks only; ${wrong} is not a final state`,
    );
  }

  const limit = filter.limit ?? DEFAULT_LIMIT;
  const matches = (stored: StoredTask | null): stored is StoredTask =>
    stored !== null && isMatch(stored, filter);
  const changes = new ChangeSet(store, store.clock.now());
  let count = 0;
  try {
    for (const bucket of listNames(store.layout.done).sort()) {
      if (count >= limit) break;
      const dir = join(store.layout.done, bucket);
      for (const name of listNames(dir)) {
        if (count >= limit) break;
        const parsed = parseDoneName(name);
        if (!parsed || !matches(store.records.read(parsed.idName))) continue;

        // Held by another process right now: left for the caller's next call.
        const held = changes.hold(join(dir, name), parsed.idName);
        if (!held) continue;
        const fresh = store.records.read(parsed.idName);
        if (matches(fresh)) {
          changes.remove(held, fresh);
          count += 1;
        } else changes.keep(held, fresh);
      }
    }
    changes.commit();
  } catch (error) {
    changes.abort();
    throw error;
  }
  return count;
}

function isMatch({ task }: StoredTask, filter: PurgeFilter): boolean {
  return (
    (filter.states as readonly TaskState[]).includes(task.state) &&
    (filter.queue === undefined || task.queue === filter.queue) &&
    (filter.finishedBefore === undefined ||
      (task.finishedAt !== null && task.finishedAt < filter.finishedBefore))
  );
}
