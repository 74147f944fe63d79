// Claim: walks each queue's ready markers in name order (the claim order)
// and renames due ones into `busy/`. A rename that fails means another
// claimer won that task: the walk moves on. A won task is leased in its
// record, and its marker moves to `running/` at commit.
import type { ClaimedTask, TaskRecord } from "../../task/record.js";
import { isWaiting, type WorkerType } from "../../task/state.js";
import type { ClaimRequest } from "../contract.js";
import { ChangeSet } from "./changes.js";
import { claimUnderControl } from "./flow.js";
import { encodeName, type ReadyEntry } from "./names.js";
import type { QueueListing } from "./ready-index.js";
import type { FileStore } from "./store.js";

export function claim(store: FileStore, request: ClaimRequest): ClaimedTask[] {
  const changes = new ChangeSet(store, store.clock.now());
  const claimed: ClaimedTask[] = [];
  try {
    // Queues are read strictly in the order given: a later one only fills what is left.
    for (const queue of request.queues) {
      if (claimed.length >= request.limit) break;
      const queueName = encodeName(queue);
      const listing = store.ready.listing(queueName);

      // Read from the file only when the listing's generation moved (controls.ts).
      const control = store.controls.forQueue(queueName, listing.generation);
      if (control === undefined) {
        claimFromQueue(store, changes, listing, request.limit, request, claimed);
        continue;
      }
      claimUnderControl(store, queueName, control, changes.now, request.limit, claimed, (until) =>
        claimFromQueue(store, changes, listing, until, request, claimed),
      );
    }
    changes.commit();
  } catch (error) {
    changes.abort();
    throw error;
  }
  return claimed;
}

function claimFromQueue(
  store: FileStore,
  changes: ChangeSet,
  listing: QueueListing,
  until: number,
  request: ClaimRequest,
  claimed: ClaimedTask[],
): void {
  const before = claimed.length;
  walk(store, changes, listing, until, request, claimed);

  // Nothing here, by a listing a while old: read the folder again to be sure.
  if (claimed.length === before && listing.isOld()) {
    listing.refresh(true);
    walk(store, changes, listing, until, request, claimed);
  }
}

function walk(
  store: FileStore,
  changes: ChangeSet,
  listing: QueueListing,
  until: number,
  request: ClaimRequest,
  claimed: ClaimedTask[],
): void {
  const now = changes.now;
  for (const entry of listing.waiting(now)) {
    if (claimed.length >= until) return;
    if (!isDue(entry, now, request.workers)) continue;

    listing.drop(entry);
    const held = changes.hold(listing.path(entry), entry.idName);
    if (!held) continue;

    // The marker's name and the record agree unless the record changed
    // under a marker left by a dead process; then the marker just goes back.
    const stored = store.records.read(entry.idName);
    if (!stored || !isClaimable(stored.task, now, request.workers)) {
      changes.keep(held, stored);
      continue;
    }

    const task: ClaimedTask = {
      ...stored.task,
      state: "running",
      attempts: stored.task.attempts + 1,
      token: stored.task.token + 1,
      leaseOwner: request.owner,
      leaseExpiresAt: now + request.leaseMs,
      startedAt: now,
    };
    changes.write(held, { ...stored, task });
    changes.event(task, "executing");
    claimed.push(task);
  }
}

function isDue(entry: ReadyEntry, now: number, workers: readonly WorkerType[]): boolean {
  return (
    entry.runAt <= now &&
    (entry.expiresAt === null || entry.expiresAt > now) &&
    workers.includes(entry.worker)
  );
}

function isClaimable(task: TaskRecord, now: number, workers: readonly WorkerType[]): boolean {
  return (
    isWaiting(task.state) &&
    task.runAt <= now &&
    (task.expiresAt === null || task.expiresAt > now) &&
    workers.includes(task.worker)
  );
}
