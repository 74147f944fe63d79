// What the claim index holds. Its bucket has two kinds of keys:
//
//   b.<batch>  a commit marker: one message naming every task an enqueue
//              stored, which makes the whole batch claimable at once;
//   t.<task>   the scheduling facts of one unfinished task, written after
//              every change of its record; deleted once the task is final;
//   c.<queue>  the flow controls of one queue (see controls.ts): here, so
//              that the catch-up before every claim brings them along and a
//              claim needs no read of its own to honour them.
//
// Entries are compact arrays, since every handle that claims reads them all.
import type { WorkerType } from "../../task/state.js";
import { isFinal } from "../../task/state.js";
import type { StoredTask } from "./records.js";

export const MARKER_PREFIX = "b.";
export const ENTRY_PREFIX = "t.";
export const CONTROL_PREFIX = "c.";
/** A key written only to put a fresh message at the end of the index (see IndexTail.sync). */
export const SYNC_KEY = "sync";

/** One unfinished task as the claim index knows it. */
export interface IndexEntry {
  key: string;
  /** `blocked` tasks are indexed only so their commit marker stays until they change. */
  state: "waiting" | "running" | "blocked";
  queue: string;
  priority: number;
  runAt: number;
  worker: WorkerType;
  expiresAt: number | null;
  /** Enqueue position, for FIFO among equals. */
  order: number;
  leaseExpiresAt: number | null;
  /** The commit marker the entry came from, until an entry of its own replaces it. */
  batch: string | null;
}

type StateCode = "w" | "r" | "b";

const CODES = { waiting: "w", running: "r", blocked: "b" } as const;
const STATES = { w: "waiting", r: "running", b: "blocked" } as const;

type EntryTuple = [
  state: StateCode,
  queue: string,
  priority: number,
  runAt: number,
  worker: WorkerType,
  expiresAt: number | null,
  order: number,
  leaseExpiresAt: number | null,
];

/** The entry of a record, or null for a final one (which leaves the index). */
export function entryOf(key: string, stored: StoredTask, order: number): IndexEntry | null {
  const { task } = stored;
  if (isFinal(task.state)) return null;
  return {
    key,
    state: task.state === "running" || task.state === "blocked" ? task.state : "waiting",
    queue: task.queue,
    priority: task.priority,
    runAt: task.runAt,
    worker: task.worker,
    expiresAt: task.expiresAt,
    order,
    leaseExpiresAt: task.leaseExpiresAt,
    batch: null,
  };
}

export function encodeEntry(entry: IndexEntry): string {
  const tuple: EntryTuple = [
    CODES[entry.state],
    entry.queue,
    entry.priority,
    entry.runAt,
    entry.worker,
    entry.expiresAt,
    entry.order,
    entry.leaseExpiresAt,
  ];
  return JSON.stringify(tuple);
}

export function decodeEntry(key: string, json: string): IndexEntry {
  const [state, queue, priority, runAt, worker, expiresAt, order, leaseExpiresAt] = JSON.parse(
    json,
  ) as EntryTuple;
  return {
    key,
    state: STATES[state] ?? "waiting",
    queue,
    priority,
    runAt,
    worker,
    expiresAt,
    order,
    leaseExpiresAt,
    batch: null,
  };
}

/**
 * A commit marker: the entries of every task of one enqueue, waiting or
 * (marked by an eighth element) blocked.
 */
export function encodeMarker(entries: readonly IndexEntry[]): string {
  return JSON.stringify(
    entries.map((e) => {
      const row = [e.key, e.queue, e.priority, e.runAt, e.worker, e.expiresAt, e.order];
      return e.state === "blocked" ? [...row, 1] : row;
    }),
  );
}

export function decodeMarker(batch: string, json: string): IndexEntry[] {
  const rows = JSON.parse(json) as [
    string,
    string,
    number,
    number,
    WorkerType,
    number | null,
    number,
    1?,
  ][];
  return rows.map(([key, queue, priority, runAt, worker, expiresAt, order, blocked]) => ({
    key,
    state: blocked === 1 ? "blocked" : "waiting",
    queue,
    priority,
    runAt,
    worker,
    expiresAt,
    order,
    leaseExpiresAt: null,
    batch,
  }));
}
