// Idempotency keys: `keys/<key as a file name>` names the task holding the
// key. Every create and delete of a key file happens under `locks/keys`, so
// checking for a holder and taking the key are one step across processes.
// A key file whose task is final, gone or rewritten without the key is
// stale: it no longer holds the key, and the next enqueue with that key
// replaces it. Holders that end remove their key file (`releaseKeys`), so
// the folder holds about one file per live keyed task.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { StorageError } from "../../errors.js";
import type { NewTask } from "../../task/record.js";
import { isFinal } from "../../task/state.js";
import { createExclusive, readText, unlinkQuietly } from "./fs-sync.js";
import { withLock } from "./locks.js";
import { encodeName } from "./names.js";
import { OWNER, ownerAlive } from "./owner.js";
import type { FileStore } from "./store.js";

/** What a key file holds: the holder, and the enqueue that stored it. */
interface KeyHolder {
  key: string;
  id: string;
  owner: string;
  batch: string;
}

/** A key a task gave up (it ended or was deleted), for `releaseKeys`. */
export interface HeldKey {
  key: string;
  id: string;
}

/**
 * Decides which tasks of a batch are stored, the caller holding the keys
 * lock: answers one id per task, its own or the live holder's of its key,
 * and the tasks to store. Removes key files found stale.
 */
export function resolveKeys(
  store: FileStore,
  tasks: readonly NewTask[],
): { answers: string[]; kept: NewTask[] } {
  const inBatch = new Map<string, string>();
  const answers: string[] = [];
  const kept: NewTask[] = [];

  for (const task of tasks) {
    const key = task.idempotencyKey ?? null;
    // An earlier task of the batch holds its key for the later ones.
    const holder = key === null ? null : (inBatch.get(key) ?? liveHolder(store, key));
    if (holder !== null) {
      answers.push(holder);
      continue;
    }
    if (key !== null) inBatch.set(key, task.id);
    answers.push(task.id);
    kept.push(task);
  }
  return { answers, kept };
}

/**
 * Writes the key files of the tasks a batch stores, the caller holding the
 * keys lock; answers their paths, for undoing the batch.
 */
export function writeKeyFiles(
  store: FileStore,
  tasks: readonly NewTask[],
  batch: string,
): string[] {
  const written: string[] = [];
  for (const task of tasks) {
    const key = task.idempotencyKey ?? null;
    if (key === null) continue;

    const path = store.layout.keyFile(encodeName(key));
    const holder: KeyHolder = { key, id: task.id, owner: OWNER, batch };
    // `resolveKeys` removed any stale file under the same lock, so the file is new.
    if (!createExclusive(path, JSON.stringify(holder))) {
      throw new StorageError(`the key file ${path} appeared while its lock was held`);
    }
    written.push(path);
  }
  return written;
}

/** Removes the key files that still name these tasks, taking the keys lock. */
export function releaseKeys(store: FileStore, keys: readonly HeldKey[]): void {
  withLock(store.locks.keys, () => {
    for (const { key, id } of keys) {
      const path = store.layout.keyFile(encodeName(key));
      if (readHolder(path)?.id === id) unlinkQuietly(path);
    }
  });
}

/** The id of the task holding `key`, or null when none does (a stale file is removed). */
function liveHolder(store: FileStore, key: string): string | null {
  const path = store.layout.keyFile(encodeName(key));
  const holder = readHolder(path);
  if (holder !== null && holder.key === key && holds(store, holder)) return holder.id;

  unlinkQuietly(path);
  return null;
}

/** Whether the named task still holds the key: stored, not final, and not an enqueue undone. */
function holds(store: FileStore, holder: KeyHolder): boolean {
  const stored = store.records.read(encodeName(holder.id));
  if (!stored || stored.task.id !== holder.id) return false;
  if (stored.task.idempotencyKey !== holder.key || isFinal(stored.task.state)) return false;

  // Still tagged with its batch: stored by an enqueue that died before its
  // commit point is about to be undone by recovery, so it holds nothing.
  if (stored.batch === undefined) return true;
  const intent = join(store.layout.staging, `${holder.batch}@${holder.owner}.json`);
  return !(existsSync(intent) && !ownerAlive(holder.owner));
}

function readHolder(path: string): KeyHolder | null {
  const text = readText(path);
  if (text === null) return null;
  try {
    return JSON.parse(text) as KeyHolder;
  } catch {
    return null;
  }
}
