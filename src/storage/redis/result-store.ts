import type { ResultStore, StoredResult } from "../stores.js";
import { SideClient } from "./side-client.js";

/*
 * Keys, under the prefix P:
 *   P:result:<token>:<id>  one result, a string
 *   P:result-expiry        "<token>:<id>" members by when they may be deleted
 * Deletion is by housekeeping, not Redis expiry: the caller's clock decides.
 */

/** ARGV[1] prefix, ARGV[2] now, ARGV[3] most to delete. Answers how many it deleted. */
const PURGE = `
local expiry = ARGV[1] .. ':result-expiry'
local due = redis.call('ZRANGEBYSCORE', expiry, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('DEL', ARGV[1] .. ':result:' .. member) end
if #due > 0 then redis.call('ZREM', expiry, unpack(due)) end
return #due
`;

/** Members deleted per script run: the server does nothing else meanwhile. */
const PURGE_BATCH = 500;

export class RedisResultStore implements ResultStore {
  constructor(private readonly side: SideClient) {}

  async put(results: readonly StoredResult[]): Promise<void> {
    if (results.length === 0) return;
    const multi = this.side.client.multi();
    for (const { id, token, result, expiresAt } of results) {
      multi.set(this.side.key(`result:${token}:${id}`), result);
      multi.zadd(this.side.key("result-expiry"), expiresAt, `${token}:${id}`);
    }
    await this.side.run("put results", async () => {
      const replies = await multi.exec();
      const failed = replies?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    });
  }

  get(id: string, token: number): Promise<string | null> {
    return this.side.run("get a result", () =>
      this.side.client.get(this.side.key(`result:${token}:${id}`)),
    );
  }

  async purge(now: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = (await this.side.run("purge results", () =>
        this.side.script("omniqResultStorePurge", [this.side.target.prefix, now, PURGE_BATCH]),
      )) as number;
      deleted += n;
      if (n < PURGE_BATCH) return deleted;
    }
  }

  close(): Promise<void> {
    return this.side.close();
  }
}

/** Opens the result store under the prefix of a `redis://` URL. */
export async function openRedisResultStore(url: string): Promise<ResultStore> {
  return new RedisResultStore(await SideClient.open(url, { omniqResultStorePurge: PURGE }));
}
