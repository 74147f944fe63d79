import type { Redis } from "ioredis";
import { StorageError } from "../../errors.js";
import { createClient, storageError } from "./connection.js";
import { parseRedisUrl, type RedisTarget } from "./url.js";

/**
 * Lua scripts of one store, by command name; each takes no KEYS (names are built from the prefix).
 */
export type SideScripts = Record<string, string>;

/**
 * The connection of a result or event store: one client, the store's own
 * scripts, and every failure as a `StorageError` naming the server.
 */
export class SideClient {
  private closing: Promise<void> | null = null;

  private constructor(
    readonly client: Redis,
    readonly target: RedisTarget,
  ) {}

  /** Connects to the server a `redis://` URL names (`?prefix=` as for the queue). */
  static async open(url: string, scripts: SideScripts): Promise<SideClient> {
    const target = parseRedisUrl(url);
    let lastError: unknown;
    const client = createClient(
      target,
      { maxRetriesPerRequest: 20, onError: (error) => (lastError = error.cause ?? error) },
      "commands",
    );
    for (const [name, lua] of Object.entries(scripts)) {
      client.defineCommand(name, { lua, numberOfKeys: 0 });
    }
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      throw storageError(`connecting to Redis at ${target.display}`, lastError ?? error);
    }
    return new SideClient(client, target);
  }

  /** A key of the store: `${prefix}:${rest}`. */
  key(rest: string): string {
    return `${this.target.prefix}:${rest}`;
  }

  /** Runs one of the store's scripts. */
  script(name: string, args: (string | number)[]): Promise<unknown> {
    const command = (
      this.client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    )[name];
    if (!command) throw new StorageError(`no Redis script named ${name}`);
    return command.call(this.client, ...args);
  }

  /** Runs `body`, failing fast once closed and wrapping what the client throws. */
  async run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (this.closing) {
      throw new StorageError(`${operation}: the Redis store at ${this.target.display} is closed`);
    }
    try {
      return await body();
    } catch (error) {
      throw storageError(`Redis ${operation} on ${this.target.display}`, error);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.client
      .quit()
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => this.client.disconnect());
    return this.closing;
  }
}
