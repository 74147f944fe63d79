// Enqueue: all tasks of a batch or none. The batch first writes its intent
// (`staging/<batch>@<owner>.json`, the list of its tasks), then holds a new
// marker in `busy/` for every task, then creates every record with an
// exclusive create, which is the duplicate check. A duplicate undoes what
// the batch made and throws. Otherwise the intent is renamed to `.commit`,
// the events are written and the markers move to the ready folders.
//
// No task of a batch is claimable before every record of it exists, and
// after the call nothing of a failed batch is left. While the call runs, a
// reader listing records may see some of them. If the process dies part
// way, recovery.ts finds the intent: before `.commit` it removes what the
// batch made, after it finishes publishing.
import { randomBytes } from "node:crypto";
import { renameSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError } from "../../errors.js";
import type { NewTask } from "../../task/record.js";
import { ChangeSet } from "./changes.js";
import { createExclusive, unlinkQuietly } from "./fs-sync.js";
import { resolveKeys, writeKeyFiles } from "./keys.js";
import { withLock } from "./locks.js";
import { encodeName, enqueueOrder } from "./names.js";
import { OWNER, OWNER_TIE } from "./owner.js";
import { newRecord, type StoredTask } from "./records.js";
import type { FileStore } from "./store.js";

interface Staged {
  idName: string;
  stored: StoredTask;
}

/**
 * Stores a batch; answers one id per task, its own or, for a task whose
 * idempotency key a live task holds, the holder's (that task is not stored).
 */
export function enqueue(store: FileStore, tasks: readonly NewTask[]): string[] {
  if (tasks.length === 0) return [];
  if (!tasks.some((task) => (task.idempotencyKey ?? null) !== null)) {
    return storeBatch(store, tasks, () => []);
  }

  // Keys are checked and taken, and the batch staged, under one lock: no
  // other process can take the same key between the check and the records.
  return withLock(store.locks.keys, () => {
    const { answers, kept } = resolveKeys(store, tasks);
    storeBatch(store, kept, (batch) => writeKeyFiles(store, kept, batch));
    return answers;
  });
}

/**
 * The batch's steps; `writeKeys` runs first in the staging and answers the
 * files to remove if the batch is undone.
 */
function storeBatch(
  store: FileStore,
  tasks: readonly NewTask[],
  writeKeys: (batch: string) => string[],
): string[] {
  if (tasks.length === 0) return [];
  refuseRepeatedIds(tasks);

  const now = store.clock.now();
  const batch = randomBytes(8).toString("hex");
  const stamp = store.log.nextStamp();
  const staged: Staged[] = tasks.map((task, i) => ({
    idName: encodeName(task.id),
    stored: { order: enqueueOrder(stamp, OWNER_TIE, i), task: newRecord(task, now), batch },
  }));

  const intent = join(store.layout.staging, `${batch}@${OWNER}.json`);
  store.layout.writeAtomically(intent, JSON.stringify(staged.map((s) => s.idName)));
  const markers = stage(store, staged, intent, () => writeKeys(batch));

  const committed = join(store.layout.staging, `${batch}@${OWNER}.commit`);
  renameSync(intent, committed);
  publish(store, staged, markers, now);
  unlinkQuietly(committed);
  return tasks.map((task) => task.id);
}

function refuseRepeatedIds(tasks: readonly NewTask[]): void {
  const ids = new Set<string>();
  for (const task of tasks) {
    if (ids.has(task.id)) {
      throw new InvalidArgumentError(
        `the batch holds the task id ${task.id} twice; nothing was stored`,
      );
    }
    ids.add(task.id);
  }
}

/** Makes the batch's held markers and records; on a duplicate id, undoes them and throws. */
function stage(
  store: FileStore,
  staged: readonly Staged[],
  intent: string,
  writeKeys: () => string[],
): string[] {
  const markers: string[] = [];
  const created: string[] = [];
  const keyFiles: string[] = [];
  try {
    keyFiles.push(...writeKeys());
    for (const { idName, stored } of staged) {
      const marker = store.layout.busyMarker(idName, stored.batch);
      createExclusive(marker, "");
      markers.push(marker);
    }

    for (const { idName, stored } of staged) {
      if (!store.records.create(idName, stored)) {
        throw new InvalidArgumentError(
          `a task with id ${stored.task.id} already exists; nothing was stored`,
        );
      }
      created.push(idName);
    }
    return markers;
  } catch (error) {
    for (const idName of created) store.records.remove(idName);
    for (const marker of markers) unlinkQuietly(marker);
    for (const path of keyFiles) unlinkQuietly(path);
    unlinkQuietly(intent);
    throw error;
  }
}

function publish(store: FileStore, staged: readonly Staged[], markers: string[], now: number) {
  const changes = new ChangeSet(store, now);
  staged.forEach(({ idName, stored }, i) => {
    changes.keep(changes.adopt(markers[i] as string, idName), stored);
    changes.event(stored.task, "enqueued");
    changes.readyQueue(stored.task.queue);
  });
  changes.commit();
}
