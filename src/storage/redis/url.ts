import type { RedisOptions } from "ioredis";
import { InvalidArgumentError } from "../../errors.js";
import { redactUrl } from "../../util/redact.js";

/** What a `redis://` URL says, ready for the client. */
export interface RedisTarget {
  /** Host, port, credentials, database and TLS for ioredis. */
  connection: RedisOptions;
  /** Every key of the store starts with `${prefix}:`. */
  prefix: string;
  /** The URL with its password hidden, for messages. */
  display: string;
}

/** The key prefix when neither the URL nor the options name one. */
export const DEFAULT_PREFIX = "omniq";

const PREFIX_PATTERN = /^[A-Za-z0-9_.:{}-]+$/;
const QUERY_KEYS = ["prefix"];

/**
 * Reads `redis://[user:pass@]host[:port][/db][?prefix=name]` (or `rediss://`
 * for TLS). A `prefix` option wins over the URL's.
 */
export function parseRedisUrl(url: string, prefixOption?: string): RedisTarget {
  const display = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new InvalidArgumentError(`storage URL "${display}" is not a valid URL`, { cause });
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new InvalidArgumentError(
      `storage URL "${display}" is not a Redis URL; use redis://host:6379 or rediss://host:6380`,
    );
  }

  for (const key of parsed.searchParams.keys()) {
    if (!QUERY_KEYS.includes(key)) {
      throw new InvalidArgumentError(
        `storage URL "${display}": unknown query parameter "${key}"; ` +
          `allowed: ${QUERY_KEYS.join(", ")}`,
      );
    }
  }

  const prefix = prefixOption ?? parsed.searchParams.get("prefix") ?? DEFAULT_PREFIX;
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new InvalidArgumentError(
      `Redis key prefix "${prefix}" is not allowed; use letters, digits and _ . : { } -`,
    );
  }

  const connection: RedisOptions = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1",
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    db: databaseOf(parsed, display),
  };
  if (parsed.username !== "") connection.username = decodeURIComponent(parsed.username);
  if (parsed.password !== "") connection.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === "rediss:") connection.tls = {};

  return { connection, prefix, display };
}

function databaseOf(parsed: URL, display: string): number {
  const path = parsed.pathname.replace(/^\//, "");
  if (path === "") return 0;
  if (!/^\d+$/.test(path)) {
    throw new InvalidArgumentError(
      `storage URL "${display}": the path must be a database number such as /0, not "/${path}"`,
    );
  }
  return Number(path);
}
