import { InvalidArgumentError } from "../errors.js";
import { redactUrl } from "../util/redact.js";
import { type Clock, type Storage, systemClock } from "./contract.js";

/** Options every backend accepts when opened from a URL. */
export interface OpenStorageOptions {
  /** The time source; tests pass a manual clock. @default the system clock */
  clock?: Clock;
  /** Store lifecycle events; `false` stores none at all. @default true */
  recordEvents?: boolean;
  /**
   * Another backend's URL for the results of completed tasks (any scheme
   * `openStorage` takes). The queue then keeps each task's state and error,
   * and a pointer to its result. @default with the queue
   */
  results?: string;
  /**
   * Another backend's URL for lifecycle events, copied there from the queue. @default with the
   * queue
   */
  events?: string;
}

/** What a backend's opener is given. */
type BackendOptions = Pick<OpenStorageOptions, "clock" | "recordEvents">;

type Opener = (url: string, options: BackendOptions) => Promise<Storage>;

// Each backend is imported only when its scheme is used, so an application on
// SQLite never loads the Redis, PostgreSQL or NATS clients.
const OPENERS: Record<string, Opener> = {
  memory: async (url, options) =>
    (await import("./memory/index.js")).openMemoryStorage(url, options),
  sqlite: async (url, options) =>
    (await import("./sqlite/index.js")).openSqliteStorage(url, options),
  file: async (url, options) => (await import("./file/index.js")).openFileStorage(url, options),
  postgres: openPostgres,
  postgresql: openPostgres,
  redis: openRedis,
  rediss: openRedis,
  nats: async (url, options) => (await import("./nats/index.js")).openNatsStorage(url, options),
};

async function openPostgres(url: string, options: BackendOptions): Promise<Storage> {
  return (await import("./postgres/index.js")).openPostgresStorage(url, options);
}

async function openRedis(url: string, options: BackendOptions): Promise<Storage> {
  return (await import("./redis/index.js")).openRedisStorage(url, options);
}

/** The URL schemes `openStorage` understands. */
export function storageSchemes(): string[] {
  return Object.keys(OPENERS);
}

/**
 * Opens the backend a URL names: `memory://`, `sqlite:///path/omniq.db`,
 * and the others listed by `storageSchemes()`. With `results` or `events`
 * naming another URL, those live there (see split/split-storage.ts), and
 * closing the answer closes every backend it opened.
 */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<Storage> {
  const { results, events } = options;
  const apart = (other: string | undefined) =>
    other === undefined || other === url ? undefined : other;
  if (apart(results) === undefined && apart(events) === undefined) return openQueue(url, options);

  const { splitStorage } = await import("./split/open.js");
  const queue = await openQueue(url, options);
  try {
    return await splitStorage(queue, {
      results: apart(results),
      events: apart(events),
      recordEvents: options.recordEvents ?? true,
      clock: options.clock ?? systemClock,
      ownsQueue: true,
    });
  } catch (error) {
    await queue.close().catch(() => undefined);
    throw error;
  }
}

function openQueue(url: string, options: OpenStorageOptions): Promise<Storage> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const opener = scheme === undefined ? undefined : OPENERS[scheme];
  if (!opener) {
    throw new InvalidArgumentError(
      `storage URL "${redactUrl(url)}" has no known scheme; use one of ` +
        `${storageSchemes()
          .map((s) => `${s}://`)
          .join(", ")}`,
    );
  }
  return opener(url, { clock: options.clock, recordEvents: options.recordEvents });
}
