import type { ClaimedTask } from "../../task/record.js";
import type { WorkerType } from "../../task/state.js";
import { decodeBackoff, decodeDependencies, decodeError } from "./rows.js";

/*
 * What a claim reads of each task it takes. Only the columns the claim does
 * not already know: the queue and worker type are the ones asked for, the
 * state and lease columns are about to be overwritten, and a task that waits
 * has no finish time. better-sqlite3 converts each column
 * of each row on its own (a timestamp even allocates a number), so at 50
 * rows a claim the columns left out are a measurable part of its cost.
 */
export const CANDIDATE_COLUMNS = `seq, id, name, priority, payload, run_at, created_at,
  max_attempts, timeout_ms, expires_at, result_ttl_ms, backoff, module, attempts,
  lease_losses, token, cancel_requested, last_error, idempotency_key, dependencies`;

/** A row as `CANDIDATE_COLUMNS` selects it in raw mode. */
export type CandidateTuple = [
  seq: number,
  id: string,
  name: string,
  priority: number,
  payload: string,
  runAt: number,
  createdAt: number,
  maxAttempts: number,
  timeoutMs: number | null,
  expiresAt: number | null,
  resultTtlMs: number,
  backoff: string | null,
  module: string | null,
  attempts: number,
  leaseLosses: number,
  token: number,
  cancelRequested: number,
  lastError: string | null,
  idempotencyKey: string | null,
  dependencies: string | null,
];

/** Positions in `CandidateTuple` that order candidates. */
export const AT = { seq: 0, priority: 3, runAt: 5 } as const;

/** The lease a claim gives, as the claim's UPDATE writes it. */
export interface LeaseGrant {
  owner: string;
  expiresAt: number;
  now: number;
}

/** What a claim knows of a candidate row without reading it: where it was found. */
export interface FoundIn {
  queue: string;
  worker: WorkerType;
}

/**
 * The record of a task as a claim leaves it, built from the row read before
 * the claim's UPDATE rather than read back after it.
 */
export function toClaimedTask(row: CandidateTuple, found: FoundIn, lease: LeaseGrant): ClaimedTask {
  return {
    id: row[1],
    name: row[2],
    queue: found.queue,
    priority: row[3],
    payload: row[4],
    runAt: row[5],
    createdAt: row[6],
    maxAttempts: row[7],
    timeoutMs: row[8],
    expiresAt: row[9],
    resultTtlMs: row[10],
    backoff: decodeBackoff(row[11]),
    worker: found.worker,
    module: row[12],
    state: "running",
    attempts: row[13] + 1,
    leaseLosses: row[14],
    token: row[15] + 1,
    leaseOwner: lease.owner,
    leaseExpiresAt: lease.expiresAt,
    startedAt: lease.now,
    finishedAt: null,
    cancelRequested: row[16] !== 0,
    lastError: decodeError(row[17]),
    idempotencyKey: row[18],
    dependencies: decodeDependencies(row[19]),
  };
}
