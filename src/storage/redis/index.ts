import { randomUUID } from "node:crypto";
import type { StorageError } from "../../errors.js";
import { type Clock, type Storage, systemClock } from "../contract.js";
import { createClient, storageError } from "./connection.js";
import { Deadlines } from "./deadlines.js";
import { RedisHandovers } from "./handovers.js";
import { Inbox } from "./inbox.js";
import { listen, SignalHub } from "./signals.js";
import { RedisStorage } from "./storage.js";
import { parseRedisUrl } from "./url.js";

/** Options of the Redis backend, besides its URL. */
export interface RedisStorageOptions {
  /** The time source; tests pass a manual clock. @default the system clock */
  clock?: Clock;
  /**
   * Every key starts with `${prefix}:`, so several applications (or tests)
   * can share one server. Wins over the URL's `?prefix=`. @default "omniq"
   */
  prefix?: string;
  /**
   * An operation without a reply after this many ms fails with
   * `StorageError` (its effect may or may not have happened). @default 15000
   */
  commandTimeoutMs?: number;
  /**
   * While the server is unreachable, a command waits through this many
   * reconnection attempts (about a second apart once backed off) and then
   * fails with `StorageError`. @default 20
   */
  maxRetriesPerRequest?: number;
  /**
   * Told about each connection error (the clients reconnect on their own).
   * Without it the errors are dropped: they never reach the process as an
   * unhandled `error` event.
   */
  onConnectionError?: (error: StorageError) => void;
  /** Store lifecycle events; `false` stores none (see scripts/prelude.ts). @default true */
  recordEvents?: boolean;
}

/**
 * Opens the Redis backend at `redis://[user:pass@]host[:port][/db][?prefix=name]`
 * (or `rediss://` for TLS). Two connections are made: one for commands and
 * scripts, one listening for other processes' signals; a third, waiting in
 * a blocking pop for tasks that enqueues hand to this handle's claims (see
 * scripts/offers.ts), opens at the first claim. Rejects with `StorageError`
 * when the server cannot be reached. Needs Redis 5 or later.
 *
 * Known limits:
 * - Redis Cluster is not supported: scripts build key names as they go, so
 *   every key must live on one server (a replica set with failover is fine).
 * - A claim moves at most 1,000 newly due delayed tasks into the ready sets;
 *   when more come due at once, the rest join on later claims, and a claim
 *   may pass over a higher priority task among them meanwhile.
 * - An enqueue batch is one script: the server does nothing else while it
 *   runs (some 10 µs per task). Batches of a few thousand keep that short.
 * - Finished tasks and events are deleted by `maintain` (workers run it), not
 *   by Redis expiry: a store nobody maintains keeps growing.
 * - Signals sent while a connection is down are lost; workers and waiters
 *   find the work by polling. Handovers are not lost: they wait in the
 *   handle's inbox list, which every claim also empties.
 * - A handle that dies with an offer standing (at most a second after a
 *   claim that found nothing) takes the tasks enqueued in that second with
 *   it until their leases run out.
 * - A rate limit counts the claims made while it is set: claims of the
 *   window before it was set are not known (counting every claim would
 *   cost every store, limited or not).
 * - `purge` of completed tasks reads the queue's whole enqueue-order index
 *   (failed, cancelled and expired tasks have indexes of their own), 500
 *   entries per script.
 */
export async function openRedisStorage(
  url: string,
  options: RedisStorageOptions = {},
): Promise<Storage> {
  const target = parseRedisUrl(url, options.prefix);
  // The client's own reason (such as WRONGPASS) comes as an event; the failed
  // connect only says the connection closed. Kept to explain a failed open.
  let lastError: Error | undefined;
  const settings = {
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 20,
    onError: (error: StorageError) => {
      lastError = error.cause instanceof Error ? error.cause : error;
      options.onConnectionError?.(error);
    },
  };
  const commands = createClient(target, settings, "commands");
  const subscriber = createClient(target, settings, "signals");
  const recordEvents = options.recordEvents !== false;
  // The scripts read the flag from the origin's suffix (see prelude.ts).
  const origin = recordEvents ? randomUUID() : `${randomUUID()}:noevents`;
  const hub = new SignalHub(origin);
  // Tasks nobody takes go back through the storage, made below.
  let storage: RedisStorage | undefined;
  const handovers = new RedisHandovers(
    hub,
    (leases) => storage?.release(leases) ?? Promise.resolve(),
  );

  // Listening starts before open() returns, so no signal sent after it is missed.
  try {
    await commands.connect();
    await subscriber.connect();
    await listen(subscriber, `${target.prefix}:signals`, hub);
  } catch (error) {
    commands.disconnect();
    subscriber.disconnect();
    throw storageError(`connecting to Redis at ${target.display}`, lastError ?? error);
  }

  const clock = options.clock ?? systemClock;
  const deadlines = new Deadlines(options.commandTimeoutMs ?? 15_000);
  const inbox = new Inbox(
    `${target.prefix}:inbox:${origin}`,
    () => createClient(target, settings, "inbox"),
    (message) => handovers.receive(message),
  );
  storage = new RedisStorage({
    target,
    commands,
    subscriber,
    clock,
    origin,
    recordEvents,
    hub,
    handovers,
    inbox,
    deadlines,
  });
  return storage;
}
