// File names of the files backend. Task ids and queue names become file
// names; a ready marker's name carries what a claim needs to order and
// filter tasks, so a directory listing sorted by name is the claim order.
import { createHash } from "node:crypto";
import type { TaskRecord } from "../../task/record.js";
import type { WorkerType } from "../../task/state.js";

// Lower case only, so names stay distinct on case-insensitive file systems.
const PLAIN_NAME = /^[a-z0-9_-]{1,100}$/;

/**
 * A file name for a task id or queue name: the name itself when it is short
 * and plain, else `=` and a hash of it. Names are never decoded back; the
 * real id and queue live inside the task record.
 */
export function encodeName(name: string): string {
  if (PLAIN_NAME.test(name)) return name;
  return `=${createHash("sha256").update(name).digest("base64url")}`;
}

const view = new DataView(new ArrayBuffer(8));

/**
 * Sixteen hex digits whose string order is the numeric order of `value`:
 * the bits of the float, with the sign bit flipped for positive numbers and
 * every bit flipped for negative ones.
 */
export function sortableHex(value: number): string {
  view.setFloat64(0, value === 0 ? 0 : value);
  let high = view.getUint32(0);
  let low = view.getUint32(4);
  if (high & 0x80000000) {
    high = ~high >>> 0;
    low = ~low >>> 0;
  } else {
    high = (high | 0x80000000) >>> 0;
  }
  return hex(high, 8) + hex(low, 8);
}

/** The number `sortableHex` encoded. */
export function fromSortableHex(text: string): number {
  let high = Number.parseInt(text.slice(0, 8), 16);
  let low = Number.parseInt(text.slice(8, 16), 16);
  if (high & 0x80000000) {
    high = (high & 0x7fffffff) >>> 0;
  } else {
    high = ~high >>> 0;
    low = ~low >>> 0;
  }
  view.setUint32(0, high);
  view.setUint32(4, low);
  return view.getFloat64(0);
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, "0");
}

/**
 * An enqueue position: 28 hex digits that sort in enqueue order. `stamp` is
 * the batch's own number from the store's counters (later batches get
 * greater ones); `ownerTie` is the enqueuing process, which keeps positions
 * unique even if a store's counters were ever reset; `index` is the place
 * in the batch.
 */
export function enqueueOrder(stamp: number, ownerTie: number, index: number): string {
  return hex(stamp, 12) + hex(ownerTie % 0x10000000000, 10) + hex(index, 6);
}

const WORKER_CODES: Record<WorkerType, string> = {
  async: "a",
  thread: "t",
  process: "p",
  gevent: "g",
};
const WORKERS_BY_CODE = new Map(Object.entries(WORKER_CODES).map(([k, v]) => [v, k as WorkerType]));

/** What a claim reads from a ready marker's name without opening any file. */
export interface ReadyEntry {
  /** The marker's file name. */
  name: string;
  /** The encoded task id: its record is `tasks/<idName>.json`. */
  idName: string;
  runAt: number;
  expiresAt: number | null;
  worker: WorkerType;
}

/**
 * The name of a waiting task's marker in its queue's ready folder:
 * `<-priority><runAt><enqueue order>.<worker><expiresAt or n>.<idName>`.
 * The fixed-width key in front sorts by priority descending, then run-at,
 * then enqueue order: the contract's claim order.
 */
export function readyName(task: TaskRecord, order: string, idName: string): string {
  const key = sortableHex(-task.priority) + sortableHex(task.runAt) + order;
  const expires = task.expiresAt === null ? "n" : sortableHex(task.expiresAt);
  return `${key}.${WORKER_CODES[task.worker]}${expires}.${idName}`;
}

/** Reads a ready marker's name; null for a name this backend did not write. */
export function parseReadyName(name: string): ReadyEntry | null {
  const [key, meta, idName, extra] = name.split(".");
  if (key?.length !== 60 || meta === undefined || idName === undefined || extra !== undefined) {
    return null;
  }
  const worker = WORKERS_BY_CODE.get(meta.slice(0, 1));
  if (worker === undefined) return null;

  const expires = meta.slice(1);
  return {
    name,
    idName,
    runAt: fromSortableHex(key.slice(16, 32)),
    expiresAt: expires === "n" ? null : fromSortableHex(expires),
    worker,
  };
}

/** A deletion time (ms) as fixed-width hex; times past the safe range are clamped. */
function deleteAtHex(deleteAt: number): string {
  const clamped = Math.min(Math.max(Math.floor(deleteAt), 0), Number.MAX_SAFE_INTEGER);
  return hex(clamped, 14);
}

/**
 * The folder and name of a finished task's marker, filed by when its result
 * may be deleted, in folders of about a minute (the first 10 of 14 hex digits).
 */
export function doneName(deleteAt: number, idName: string): { bucket: string; name: string } {
  const stamp = deleteAtHex(deleteAt);
  return { bucket: stamp.slice(0, 10), name: `${stamp}.${idName}` };
}

/** The bucket folder of time `at`: every marker in an earlier or equal bucket may be due. */
export function doneBucketOf(at: number): string {
  return deleteAtHex(at).slice(0, 10);
}

/** Reads a done marker's name: when its result may be deleted, and its task. */
export function parseDoneName(name: string): { deleteAt: number; idName: string } | null {
  const dot = name.indexOf(".");
  if (dot !== 14) return null;
  return { deleteAt: Number.parseInt(name.slice(0, 14), 16), idName: name.slice(15) };
}
