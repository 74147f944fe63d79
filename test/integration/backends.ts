// The backends the process tests run on, each with a fresh, isolated store
// per test and a way to remove it afterwards.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { destroyNatsStorage } from "../../src/storage/nats/index.js";
import { deleteKeys, testPrefix } from "../helpers/redis-keys.js";
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
import { dropSchema, uniqueSchema } from "../storage/fixtures/postgres-store.js";

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
  {
    name: "postgres",
    service: POSTGRES,
    fresh() {
      const schema = uniqueSchema("proc");
      return { url: `${POSTGRES_URL}?schema=${schema}`, remove: () => dropSchema(schema) };
    },
  },
  {
    name: "redis",
    service: REDIS,
    fresh() {
      const prefix = testPrefix("proc");
      return { url: `${REDIS_URL}?prefix=${prefix}`, remove: () => deleteKeys(REDIS_URL, prefix) };
    },
  },
  {
    name: "nats",
    service: NATS,
    fresh() {
      const url = `${NATS_URL}?prefix=proc${unique()}`;
      return { url, remove: () => destroyNatsStorage(url) };
    },
  },
];

export { NATS, NATS_URL, POSTGRES, POSTGRES_URL, REDIS, REDIS_URL, unique };
