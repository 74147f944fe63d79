// The backends the process tests run on, each with a fresh, isolated store
// per test and a way to remove it afterwards.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { openStorage } from "../../src/index.js";
import {
  NATS,
  NATS_URL,
  POSTGRES,
  POSTGRES_URL,
  REDIS,
  REDIS_URL,
  type Service,
} from "../helpers/services.js";
import { tempDir } from "../helpers/temp.js";

export interface ProcessBackend {
  name: string;
  /** The server it needs, if any: its tests skip (or fail in CI) without it. */
  service?: Service;
  /** A URL onto a fresh store, and what removes it. */
  fresh(): { url: string; remove(): Promise<void> };
}

const unique = () => randomUUID().replaceAll("-", "").slice(0, 12);

export const PROCESS_BACKENDS: ProcessBackend[] = [
  {
    name: "sqlite",
    fresh() {
      const dir = tempDir();
      return { url: `sqlite://${join(dir.path, "omniq.db")}`, remove: async () => dir.remove() };
    },
  },
  {
    name: "file",
    fresh() {
      const dir = tempDir();
      return { url: `file://${join(dir.path, "store")}`, remove: async () => dir.remove() };
    },
  },
];

/** Opens the store once more and drops everything in it, where the backend can. */
export async function purge(url: string): Promise<void> {
  const storage = await openStorage(url);
  const dropping = storage as { drop?: () => Promise<void> };
  try {
    await dropping.drop?.();
  } finally {
    await storage.close();
  }
}

export { NATS, NATS_URL, POSTGRES, POSTGRES_URL, REDIS, REDIS_URL, unique };
