import { randomUUID } from "node:crypto";
import { type Clock, type StorageSignal, systemClock } from "../contract.js";
import { Handovers } from "../shared/handovers.js";
import { clientConfig, Db, type PoolSettings, toStorageError } from "./db.js";
import { Listener } from "./listener.js";
import { migrate } from "./migrate.js";
import { sqlNames } from "./names.js";
import { Offers } from "./offers.js";
import { Statements } from "./statements.js";
import { PostgresStorage } from "./storage.js";
import { parsePostgresUrl } from "./url.js";

export { type EnqueueWithinOptions, enqueueWithin } from "./enqueue.js";
export { PostgresStorage } from "./storage.js";

/** Options of `openPostgresStorage`. */
export interface PostgresStorageOptions {
  /** The time source; tests pass a manual clock. @default the system clock */
  clock?: Clock;
  /** The schema holding omniq's tables; wins over the URL's `?schema=`. @default "omniq" */
  schema?: string;
  /** Most connections the pool opens, besides the one that listens. @default 10 */
  maxConnections?: number;
  /** How long to wait for a connection, in ms. @default 10000 */
  connectTimeoutMs?: number;
  /** How long a statement may go unanswered before it fails, in ms. @default 30000 */
  queryTimeoutMs?: number;
  /**
   * Keep a connection that LISTENs for signals from every process, so
   * `subscribe` works across processes. A producer that never subscribes
   * may turn it off to save the connection. @default true
   */
  listen?: boolean;
  /** Store lifecycle events; `false` stores none (see `SqlNames.eventsMuted`). @default true */
  recordEvents?: boolean;
}

const DEFAULT_POOL: PoolSettings = {
  maxConnections: 10,
  connectTimeoutMs: 10_000,
  queryTimeoutMs: 30_000,
};

/**
 * Opens the PostgreSQL store at `url` (`postgres://user:password@host:5432/db`,
 * `postgresql://` too, optional `?schema=name`): creates or upgrades its
 * schema, then starts listening for signals. Rejects with a `StorageError`
 * when the server cannot be reached.
 */
export async function openPostgresStorage(
  url: string,
  options: PostgresStorageOptions = {},
): Promise<PostgresStorage> {
  const target = parsePostgresUrl(url, options.schema);
  const settings: PoolSettings = {
    maxConnections: options.maxConnections ?? DEFAULT_POOL.maxConnections,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_POOL.connectTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs ?? DEFAULT_POOL.queryTimeoutMs,
  };
  const names = sqlNames(target.schema);
  const db = new Db(target, settings);
  const subscribers = new Set<(signal: StorageSignal) => void>();

  try {
    await migrate(db, names, target.schema);
  } catch (error) {
    await db.close();
    throw error;
  }

  // Handed-over tasks nobody took go back through the storage, made below.
  let storage: PostgresStorage | undefined;
  const handovers = new Handovers(
    (queue) => deliver(subscribers, { type: "ready", queue }),
    (leases) => storage?.release(leases) ?? Promise.resolve(),
  );

  let listener: Listener | null = null;
  let offers: Offers | null = null;
  if (options.listen ?? true) {
    const taking = new Offers(randomUUID(), handovers);
    offers = taking;
    listener = new Listener(
      clientConfig(target, settings),
      names,
      { minBackoffMs: 50, maxBackoffMs: 2_000, pingMs: 15_000 },
      (signal) => deliver(subscribers, signal),
      (message) => taking.receive(message),
    );
    try {
      await listener.start();
    } catch (error) {
      await db.close();
      throw toStorageError("LISTEN", error, db.target);
    }
  }

  // The migration above needs the real names; the statements may write through the muted view.
  const muted = options.recordEvents === false;
  const statements = new Statements(muted ? { ...names, events: names.eventsMuted } : names);
  const clock = options.clock ?? systemClock;
  storage = new PostgresStorage({
    db,
    names,
    statements,
    clock,
    listener,
    subscribers,
    handovers,
    offers,
  });
  return storage;
}

/** Hands a signal to every subscriber; one that throws does not stop the others. */
function deliver(subscribers: Set<(signal: StorageSignal) => void>, signal: StorageSignal): void {
  for (const subscriber of [...subscribers]) {
    try {
      subscriber(signal);
    } catch {
      // A subscriber's own failure is its business; the signal still reaches the rest.
    }
  }
}
