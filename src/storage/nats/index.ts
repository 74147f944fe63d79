// The NATS JetStream backend (`nats://[user:pass@]host:port[?prefix=name]`).
//
// Design. NATS (2.9 here) stores messages and keys; it has no queries, no
// sorting, no per-message time-to-live and no multi-message transactions
// (atomic batch publish and message TTLs came in 2.11/2.12). So:
//
// - Task records live in a KV bucket (`<prefix>-tasks`), one key per task.
//   Every change is a compare-and-set on the key's revision (the header
//   `Nats-Expected-Last-Subject-Sequence`, as `kv.update` sends it), so a
//   fencing-token check and the change it guards are one atomic step, and
//   two handles racing for one task cannot both win. The record is the
//   only truth.
// - Claim order (queue position, priority, run-at time, enqueue order),
//   leases that ran out and waiting tasks past their time-to-live are
//   answered from a claim index: a second KV bucket (`<prefix>-index`) with
//   a small entry per unfinished task, which every claiming handle follows
//   with a push consumer into a sorted in-memory view (view.ts, lanes.ts).
//   The view only proposes; the record decides. Before each claim the view
//   catches up with the index stream, so a handle sees what other handles
//   stored before it asked. The index entry is written right after its
//   record; a process that dies in between leaves the index behind, which
//   claims notice and `maintain` repairs from the record (housekeeping.ts).
// - An enqueue batch is atomic without transactions: its records are
//   created first ("only if new", which is the duplicate check) and stay
//   invisible until one commit message in the index names them all
//   (enqueue.ts). A failure before the commit deletes what was created.
// - JetStream is the delivery path only in this sense: the index stream
//   carries every change to every claiming handle. Leases are not JetStream
//   ack deadlines: they live in the records and run out by the caller's
//   clock, when `maintain` says so, like every time comparison here.
// - Finished tasks are deleted by notes filed per minute of their deletion
//   time (results.ts); old events by purging the log's expired prefix.
// - Events go to their own stream (`<prefix>-events`), one subject per
//   task; the stream's sequence numbers are the events' `seq`. They are
//   written right after the change they record, not in the same step: a
//   crash in between loses the event, never the change.
// - The rest of the state sits in a third bucket (`<prefix>-state`), each
//   record changed by compare-and-set like a task: idempotency keys (an
//   entry per key naming its holder, taken between an enqueue's records
//   and its commit; idempotency.ts), permits of queues with concurrency or
//   rate limits (reserved inside the claim before any task is taken, given
//   back after; permits.ts) and schedules (schedules.ts). Queue controls
//   themselves are records in the claim index (controls.ts), so the
//   catch-up before each claim brings them and a store without controls
//   pays nothing for them. Blocked tasks are indexed too, but never as
//   waiting: no claim or expiry sees them until `unblock` (lifecycle.ts).
// - Wake-up signals travel on a core NATS subject (`<prefix>.signal`).
// - Requests go through a pipelined layer (wire.ts) instead of one client
//   call each: the same messages, several times the throughput.
//
// Costs: a claim is about four round trips whatever its size (catch up,
// read, compare-and-set, index and events), plus four per limited queue
// (read permits, catch up again, reserve, give back); a settle two. An enqueue
// with idempotency keys adds a read and a compare-and-set per key. Listing and
// counting read every record. Each claiming handle holds one small entry
// per unfinished task in memory.
import { StorageError } from "../../errors.js";
import { type Clock, type Storage, systemClock } from "../contract.js";
import { connectNats, dropStore, ensureStore, watchConnection } from "./connection.js";
import { JetStream } from "./jetstream.js";
import { storeNames } from "./names.js";
import { SignalBus } from "./signals.js";
import { NatsStorage } from "./storage.js";
import { parseNatsUrl } from "./url.js";
import { Wire } from "./wire.js";

/** Options of `openNatsStorage`. */
export interface NatsStorageOptions {
  /** The time source; tests pass a manual clock. @default the system clock */
  clock?: Clock;
  /**
   * Streams, buckets and subjects are named after it, so several stores can
   * share a server. Overrides the URL's `prefix` parameter.
   * @default "omniq"
   */
  prefix?: string;
  /**
   * How long one request to the server may take before the operation fails, in ms. @default 5000
   */
  timeoutMs?: number;
  /** Store lifecycle events; `false` stores none. @default true */
  recordEvents?: boolean;
}

const DEFAULT_PREFIX = "omniq";
const DEFAULT_TIMEOUT_MS = 5_000;

/** Opens (creating where missing) the store at a `nats://` URL. */
export async function openNatsStorage(
  url: string,
  options: NatsStorageOptions = {},
): Promise<Storage> {
  const settings = parseNatsUrl(url);
  const names = storeNames(options.prefix ?? settings.prefix ?? DEFAULT_PREFIX);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  const { nc, resetBackoff } = await connectNats(settings, timeoutMs);
  try {
    await ensureStore(nc, names);
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }

  const wire = new Wire(nc, timeoutMs);
  const storage = new NatsStorage(
    nc,
    wire,
    new JetStream(wire),
    {
      names,
      clock: options.clock ?? systemClock,
      signals: new SignalBus(nc, names.signalSubject),
      recordEvents: options.recordEvents ?? true,
    },
    timeoutMs,
  );
  watchConnection(nc, {
    down: (reason) => storage.down(reason),
    up: () => {
      resetBackoff();
      storage.up();
    },
  });
  return storage;
}

/** Deletes every stream and bucket of the store at `url` (with its `prefix`). */
export async function destroyNatsStorage(
  url: string,
  options: Pick<NatsStorageOptions, "prefix"> = {},
): Promise<void> {
  const settings = parseNatsUrl(url);
  const names = storeNames(options.prefix ?? settings.prefix ?? DEFAULT_PREFIX);
  const { nc } = await connectNats(settings, DEFAULT_TIMEOUT_MS);
  try {
    await dropStore(nc, names);
  } catch (error) {
    throw new StorageError(`could not delete NATS store "${names.prefix}"`, { cause: error });
  } finally {
    await nc.close().catch(() => undefined);
  }
}
