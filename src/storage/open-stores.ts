import { InvalidArgumentError } from "../errors.js";
import { redactUrl } from "../util/redact.js";
import type { EventStore, ResultStore } from "./stores.js";

type Opener<T> = (url: string) => Promise<T>;

// As for storage, a backend's client is loaded only when its scheme is used.
const RESULT_OPENERS: Record<string, Opener<ResultStore>> = {
  memory: async (url) => (await import("./memory/side-stores.js")).openMemoryResultStore(url),
  sqlite: async (url) => (await import("./sqlite/result-store.js")).openSqliteResultStore(url),
  file: async (url) => (await import("./file/result-store.js")).openFileResultStore(url),
  postgres: async (url) =>
    (await import("./postgres/result-store.js")).openPostgresResultStore(url),
  redis: async (url) => (await import("./redis/result-store.js")).openRedisResultStore(url),
  nats: async (url) => (await import("./nats/result-store.js")).openNatsResultStore(url),
};

const EVENT_OPENERS: Record<string, Opener<EventStore>> = {
  memory: async (url) => (await import("./memory/side-stores.js")).openMemoryEventStore(url),
  sqlite: async (url) => (await import("./sqlite/event-store.js")).openSqliteEventStore(url),
  file: async (url) => (await import("./file/event-store.js")).openFileEventStore(url),
  postgres: async (url) => (await import("./postgres/event-store.js")).openPostgresEventStore(url),
  redis: async (url) => (await import("./redis/event-store.js")).openRedisEventStore(url),
  nats: async (url) => (await import("./nats/event-store.js")).openNatsEventStore(url),
};

const ALIASES: Record<string, string> = { postgresql: "postgres", rediss: "redis" };

function openerFor<T>(openers: Record<string, Opener<T>>, url: string, what: string): Opener<T> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const opener = scheme === undefined ? undefined : openers[ALIASES[scheme] ?? scheme];
  if (!opener) {
    const known = [...Object.keys(openers), ...Object.keys(ALIASES)];
    throw new InvalidArgumentError(
      `${what} URL "${redactUrl(url)}" has no known scheme; use one of ` +
        known.map((s) => `${s}://`).join(", "),
    );
  }
  return opener;
}

/**
 * Opens the result store a URL names, on any backend: the same URLs as
 * `openStorage`. Results live in their own tables, keys or streams there.
 */
export function openResultStore(url: string): Promise<ResultStore> {
  return openerFor(RESULT_OPENERS, url, "results")(url);
}

/** Opens the event store a URL names, on any backend: the same URLs as `openStorage`. */
export function openEventStore(url: string): Promise<EventStore> {
  return openerFor(EVENT_OPENERS, url, "events")(url);
}
