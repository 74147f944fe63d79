import { InvalidArgumentError } from "../errors.js";
import { redactUrl } from "../util/redact.js";
import type { Clock, Storage } from "./contract.js";

/** Options every backend accepts when opened from a URL. */
export interface OpenStorageOptions {
  /** The time source; tests pass a manual clock. @default the system clock */
  clock?: Clock;
}

type Opener = (url: string, options: OpenStorageOptions) => Promise<Storage>;

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

async function openPostgres(url: string, options: OpenStorageOptions): Promise<Storage> {
  return (await import("./postgres/index.js")).openPostgresStorage(url, options);
}

async function openRedis(url: string, options: OpenStorageOptions): Promise<Storage> {
  return (await import("./redis/index.js")).openRedisStorage(url, options);
}

/** The URL schemes `openStorage` understands. */
export function storageSchemes(): string[] {
  return Object.keys(OPENERS);
}

/**
 * Opens the backend a URL names: `memory://`, `sqlite:///path/omniq.db`,
 * and the others listed by `storageSchemes()`.
 */
export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<Storage> {
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
  return opener(url, options);
}
