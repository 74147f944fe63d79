// Key prefixes and cleanup for tests of the Redis backend: each test gets a
// prefix of its own and deletes every key under it afterwards.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/** A prefix no other test uses. */
export function testPrefix(label = "t"): string {
  return `omniq-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under `${prefix}:` on the server at `url`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  try {
    await client.connect();
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}
