// Every name the backend gives to something on the NATS server, derived from
// one prefix so that several stores (or tests) share a server without
// touching each other's data.
import { InvalidArgumentError } from "../../errors.js";

const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const PLAIN_ID = /^[A-Za-z0-9_-]{1,200}$/;

/** The streams, buckets and subjects of one store. */
export interface StoreNames {
  prefix: string;
  /** KV bucket of task records: the source of truth, changed only by compare-and-set. */
  tasksBucket: string;
  /**
   * KV bucket of the claim index: batch commit markers, one entry per
   * unfinished task and one record per queue with flow controls.
   */
  indexBucket: string;
  /**
   * KV bucket of the rest of the store's state, by key prefix: idempotency
   * keys (`k.`), queue permits (`p.`) and schedules (`s.`).
   */
  stateBucket: string;
  /** Stream of lifecycle events; its sequence numbers are the events' `seq`. */
  eventsStream: string;
  /** Stream of notes saying when finished tasks may be deleted. */
  expiryStream: string;
  /** Core NATS subject for wake-up signals (not stored). */
  signalSubject: string;
}

export function storeNames(prefix: string): StoreNames {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new InvalidArgumentError(
      `NATS prefix "${prefix}" is not allowed; use 1 to 64 letters, digits, "_" or "-"`,
    );
  }
  return {
    prefix,
    tasksBucket: `${prefix}-tasks`,
    indexBucket: `${prefix}-index`,
    stateBucket: `${prefix}-state`,
    eventsStream: `${prefix}-events`,
    expiryStream: `${prefix}-expiry`,
    signalSubject: `${prefix}.signal`,
  };
}

/** The stream that holds a KV bucket, by the KV convention. */
export function bucketStream(bucket: string): string {
  return `KV_${bucket}`;
}

/** The subject a KV key is stored under, by the KV convention. */
export function keySubject(bucket: string, key: string): string {
  return `$KV.${bucket}.${key}`;
}

/**
 * A task id as a KV key and subject tokens. Plain ids are kept readable; any
 * other id (dots, spaces, unicode) is base64url-encoded, under a different
 * first token so the two forms never collide.
 */
export function taskKey(id: string): string {
  if (PLAIN_ID.test(id)) return `i.${id}`;
  return `x.${Buffer.from(id, "utf8").toString("base64url")}`;
}

/** The id a `taskKey` came from. */
export function taskIdOf(key: string): string {
  if (key.startsWith("i.")) return key.slice(2);
  return Buffer.from(key.slice(2), "base64url").toString("utf8");
}

/** Any name (a queue, an idempotency key, a schedule id) as KV key tokens, as `taskKey` does. */
export const nameKey = taskKey;

/** The name a `nameKey` came from. */
export const nameOfKey = taskIdOf;

/** Subject of one task's events. */
export function eventSubject(names: StoreNames, key: string): string {
  return `${names.prefix}.events.${key}`;
}

/** Subject of the expiry notes whose first deletion time falls in `bucket`. */
export function expirySubject(names: StoreNames, bucket: number | "*"): string {
  return `${names.prefix}.expiry.${bucket}`;
}
