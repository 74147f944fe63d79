// Task records: one file per task, `tasks/<idName>.json`, holding the
// record, its enqueue order and, once completed, its result. Only the
// process holding a task's marker (see changes.ts) writes its record.

import { closeSync, openSync, writeSync } from "node:fs";
import { StorageError } from "../../errors.js";
import {
  copyDependencies,
  initialState,
  type NewTask,
  type TaskRecord,
} from "../../task/record.js";
import { createExclusive, isMissing, readBytes, sleepSync, unlinkQuietly } from "./fs-sync.js";
import type { Layout } from "./layout.js";

/** What a record file holds. */
export interface StoredTask {
  /** Enqueue order (see names.ts): lists and FIFO claims follow it. */
  order: string;
  task: TaskRecord;
  /** The encoded result, once completed. */
  result?: string;
  /**
   * Why a running task was asked to cancel, for when its lease runs out before its worker stops.
   */
  cancelReason?: string;
  /** The enqueue batch that created the file; dropped at the first change after it. */
  batch?: string;
}

/** A stored record built from what the caller handed in, sharing no object with it. */
export function newRecord(task: NewTask, now: number): TaskRecord {
  return {
    id: task.id,
    name: task.name,
    queue: task.queue,
    priority: task.priority,
    payload: task.payload,
    runAt: task.runAt,
    createdAt: task.createdAt,
    maxAttempts: task.maxAttempts,
    timeoutMs: task.timeoutMs,
    expiresAt: task.expiresAt,
    resultTtlMs: task.resultTtlMs,
    backoff: task.backoff === null ? null : { ...task.backoff },
    worker: task.worker,
    module: task.module,
    state: initialState(task, now),
    attempts: 0,
    leaseLosses: 0,
    token: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
    startedAt: null,
    finishedAt: null,
    cancelRequested: false,
    lastError: null,
    // Last, so that `encode` can leave them out while both are null.
    idempotencyKey: task.idempotencyKey ?? null,
    dependencies: copyDependencies(task.dependencies),
  };
}

/**
 * Records up to this size are rewritten in place: one page, which a killed process cannot leave
 * half written.
 */
const IN_PLACE_BYTES = 4_096;

/** How many times a reader reads a record again that changed while it read, before giving up. */
const TORN_RETRIES = 50;

/**
 * Reads and writes record files. A file is a header line `omniq <bytes>
 * <checksum>` and the JSON of a `StoredTask`. The holder of a task's marker
 * rewrites a small record in place (an eighth of the cost of a new file and
 * a rename on ext4); a reader that catches the write half done sees the
 * checksum fail and reads again. A larger record goes to a new file renamed
 * over the old one.
 */
export class RecordFiles {
  constructor(private readonly layout: Layout) {}

  /**
   * The stored task, or null when there is none. An empty file is one an
   * enqueue is still writing (see `create`): not stored yet.
   */
  read(idName: string): StoredTask | null {
    const path = this.layout.record(idName);
    for (let attempt = 0; attempt < TORN_RETRIES; attempt += 1) {
      const bytes = readBytes(path);
      if (bytes === null || bytes.length === 0) return null;
      const stored = decode(bytes);
      if (stored !== null) return stored;
      sleepSync(0.02);
    }
    throw new StorageError(`the task record ${path} is damaged (its checksum does not match)`);
  }

  /** Replaces a record; the caller holds the task's marker, so nobody else writes it. */
  write(idName: string, stored: StoredTask): void {
    const { batch: _batch, ...kept } = stored;
    const bytes = encode(kept);
    const path = this.layout.record(idName);
    if (bytes.length > IN_PLACE_BYTES || !writeInPlace(path, bytes)) {
      this.layout.writeAtomically(path, bytes);
    }
  }

  /**
   * Writes a new record only if none has the name: false for a duplicate id.
   * The exclusive create is the duplicate check, atomic across processes.
   */
  create(idName: string, stored: StoredTask): boolean {
    return createExclusive(this.layout.record(idName), encode(stored));
  }

  remove(idName: string): void {
    unlinkQuietly(this.layout.record(idName));
  }
}

/**
 * The task's two last fields while both are null, as JSON writes them. The
 * text cannot occur inside a string value (its quotes would be escaped), so
 * it is the task's own. Most tasks have neither; leaving the text out keeps
 * their records as small, and as quick to write and check, as before the
 * fields existed; `decode` puts them back.
 */
const NO_KEY_NOR_DEPENDENCIES = ',"idempotencyKey":null,"dependencies":null}';

function encode(stored: StoredTask): Buffer {
  const json = Buffer.from(JSON.stringify(stored).replace(NO_KEY_NOR_DEPENDENCIES, "}"));
  return Buffer.concat([Buffer.from(`omniq ${json.length} ${checksum(json)}\n`), json]);
}

/** The stored task, or null when the bytes do not check out (a write in progress). */
function decode(bytes: Buffer): StoredTask | null {
  const newline = bytes.indexOf(10);
  const header = /^omniq (\d+) ([0-9a-f]+)$/.exec(
    bytes.toString("latin1", 0, Math.max(newline, 0)),
  );
  if (!header) return null;

  const json = bytes.subarray(newline + 1, newline + 1 + Number(header[1]));
  if (json.length !== Number(header[1]) || checksum(json) !== header[2]) return null;
  const stored = JSON.parse(json.toString("utf8")) as StoredTask;
  // Left out while null (see `encode`), and absent from records older than the fields.
  stored.task.idempotencyKey ??= null;
  stored.task.dependencies ??= null;
  return stored;
}

/** FNV-1a, 32 bits: enough to catch a read that overlapped a write. */
function checksum(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return (hash >>> 0).toString(16);
}

/** Overwrites a file from its start; bytes past the new record are ignored by `decode`. */
function writeInPlace(path: string, bytes: Buffer): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r+");
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
  } finally {
    closeSync(fd);
  }
  return true;
}
