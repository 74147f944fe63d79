// Taking over what a process left when it died (even by kill -9) in the
// middle of a change: markers it held in `busy/`, an enqueue it had not
// finished, temporary files. Every file involved carries its owner's name,
// so a live process's work is never touched.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ChangeSet } from "./changes.js";
import { listNames, readText, tryRename, unlinkQuietly } from "./fs-sync.js";
import { livenessCache, OWNER } from "./owner.js";
import type { FileStore } from "./store.js";

/** Runs every recovery below; cheap when nothing was left behind (three short listings). */
export function recoverAbandoned(store: FileStore): void {
  const alive = livenessCache();
  // Enqueues first: their markers in `busy/` are theirs to resolve.
  recoverEnqueues(store, alive);
  recoverMarkers(store, alive);
  removeDeadTemporaries(store, alive);
}

/**
 * Puts markers held by dead processes back where their records say. A
 * record is replaced in one rename, so it is either the old state or the
 * new one, and the marker follows whichever it is.
 */
export function recoverMarkers(store: FileStore, alive = livenessCache()): void {
  const changes = new ChangeSet(store, store.clock.now());
  for (const name of listNames(store.layout.busy)) {
    const [idName, owner, batch] = name.split("@");
    if (idName === undefined || owner === undefined || batch !== undefined || alive(owner)) {
      continue;
    }

    const mine = store.layout.busyMarker(idName);
    if (tryRename(join(store.layout.busy, name), mine)) changes.adopt(mine, idName);
  }
  changes.commit();
}

/** Finishes or undoes enqueues cut short: undone before their commit point, finished after. */
function recoverEnqueues(store: FileStore, alive: (owner: string) => boolean): void {
  for (const name of listNames(store.layout.staging)) {
    const match = /^([0-9a-f]+)@(.+)\.(json|commit)$/.exec(name);
    if (!match) continue;
    const [, batch, owner, kind] = match as unknown as [string, string, string, string];
    if (alive(owner)) continue;

    // Renamed to this process first, so only one process recovers the batch.
    const mine = join(store.layout.staging, `${batch}@${OWNER}.${kind}`);
    if (!tryRename(join(store.layout.staging, name), mine)) continue;

    const idNames = JSON.parse(readText(mine) ?? "[]") as string[];
    const markers = idNames.map((idName) => ({
      idName,
      marker: join(store.layout.busy, `${idName}@${owner}@${batch}`),
    }));
    if (kind === "json") undoEnqueue(store, markers, batch);
    else finishEnqueue(store, markers);
    unlinkQuietly(mine);
  }
}

type BatchMarkers = Array<{ idName: string; marker: string }>;

function undoEnqueue(store: FileStore, markers: BatchMarkers, batch: string): void {
  for (const { idName, marker } of markers) {
    // A record is the batch's own only if the batch held its marker and wrote its name in it.
    if (!existsSync(marker)) continue;
    if (store.records.read(idName)?.batch === batch) store.records.remove(idName);
    unlinkQuietly(marker);
  }
}

/**
 * Publishes the tasks of a batch that got past its commit point. Their
 * enqueued events may or may not have been written before the process
 * died; they are not written again, so a few may be missing.
 */
function finishEnqueue(store: FileStore, markers: BatchMarkers): void {
  const changes = new ChangeSet(store, store.clock.now());
  for (const { idName, marker } of markers) {
    if (existsSync(marker)) changes.adopt(marker, idName);
  }
  changes.commit();
}

function removeDeadTemporaries(store: FileStore, alive: (owner: string) => boolean): void {
  for (const name of listNames(store.layout.tmp)) {
    const owner = name.split("~")[0];
    if (owner !== undefined && !alive(owner)) unlinkQuietly(join(store.layout.tmp, name));
  }
}
