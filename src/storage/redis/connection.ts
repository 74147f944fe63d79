import { Redis } from "ioredis";
import { DuplicateTaskError, OmniQError, StorageError } from "../../errors.js";
import type { ScriptName } from "./scripts/index.js";
import { SCRIPTS } from "./scripts/index.js";
import type { RedisTarget } from "./url.js";

/** How the clients behave when the server goes away. */
export interface ConnectionSettings {
  /** Reconnection attempts a queued command waits through before it fails. */
  maxRetriesPerRequest: number;
  /** Told about connection errors; the clients reconnect on their own. */
  onError?: ((error: StorageError) => void) | undefined;
}

/** A script argument: ioredis sends numbers as their decimal text. */
export type ScriptArg = string | number;

type ScriptCommands = Record<ScriptName, (...args: ScriptArg[]) => Promise<unknown>>;

/** Reconnect quickly at first, then every second at most, for as long as it takes. */
function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 5), 1_000);
}

/**
 * Opens one ioredis client. Every client gets an `error` listener at once: an
 * unheard `error` event must never reach the process.
 *
 * A command whose reply was lost when the connection dropped is sent again
 * after the reconnect (ioredis's default), so a script may run twice. Each is
 * safe to: enqueue remembers its batch id and answers as before; a second
 * claim leaves what the first one took under a lease that runs out, and
 * `maintain` hands it back; settle, release and heartbeat check the token;
 * cancel changes nothing the second time.
 */
export function createClient(
  target: RedisTarget,
  settings: ConnectionSettings,
  role: "commands" | "signals" | "inbox",
): Redis {
  const client = new Redis({
    ...target.connection,
    lazyConnect: true,
    connectionName: `omniq-${role}`,
    // Reads issued together (many result waiters) go out in one write; a
    // script goes out at once, since waiting a turn of the event loop adds
    // to every claim's latency and scripts are batches already.
    enableAutoPipelining: role === "commands",
    autoPipeliningIgnoredCommands: Object.keys(SCRIPTS),
    maxRetriesPerRequest: settings.maxRetriesPerRequest,
    retryStrategy: reconnectDelay,
  });

  client.on("error", (error: Error) => {
    settings.onError?.(storageError(`Redis connection to ${target.display} (${role})`, error));
  });
  if (role === "commands") {
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      client.defineCommand(name, { lua, numberOfKeys: 0 });
    }
  }
  return client;
}

/** Runs one of the backend's scripts; its first three arguments are prefix, origin and now. */
export function runScript(client: Redis, name: ScriptName, args: ScriptArg[]): Promise<unknown> {
  return (client as unknown as ScriptCommands)[name](...args);
}

/** Wraps a client error so callers see one error class; the client's error is the cause. */
export function storageError(what: string, cause: unknown): StorageError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(`${what} failed: ${reason}`, { cause });
}

/**
 * Turns what the client throws into omniq's errors: a script's `DUPLICATE
 * <id>` into `DuplicateTaskError`, anything else not omniq's own into a
 * `StorageError` saying what failed (`what`) and why.
 */
export function translateError(what: string, error: unknown): Error {
  if (error instanceof OmniQError) return error;
  const message = error instanceof Error ? error.message : String(error);

  const duplicate = /^DUPLICATE (.*)$/s.exec(message);
  if (duplicate) return new DuplicateTaskError(duplicate[1] ?? "");
  return new StorageError(`${what} failed: ${message}`, { cause: error });
}
