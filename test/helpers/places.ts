// Fresh, isolated places on every backend, named by URL: a queue, a result
// store or an event store opens on any of them. Server backends get a key
// prefix, schema or stream prefix of their own, removed by `cleanup`.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { destroyNatsStorage } from "../../src/storage/nats/index.js";
import { dropSchema, uniqueSchema } from "../storage/fixtures/postgres-store.js";
import { deleteKeys, testPrefix } from "./redis-keys.js";
import {
  NATS,
  NATS_URL,
  POSTGRES,
  POSTGRES_URL,
  REDIS,
  REDIS_URL,
  type Service,
  skipUnless,
} from "./services.js";
import { tempDir } from "./temp.js";

export const BACKENDS = ["memory", "sqlite", "file", "postgres", "redis", "nats"] as const;

export type Backend = (typeof BACKENDS)[number];

/** A place for one test: its URL, and what removes it. */
export interface Place {
  url: string;
  cleanup(): Promise<void>;
}

const SERVICES: Partial<Record<Backend, Service>> = {
  postgres: POSTGRES,
  redis: REDIS,
  nats: NATS,
};

/** Resolves to a skip message when the backend's server is missing (see services.ts). */
export function skipUnlessServed(backend: Backend): Promise<string | false> {
  const service = SERVICES[backend];
  return service ? skipUnless(service) : Promise.resolve(false);
}

/** A fresh place on `backend`. */
export function freshPlace(backend: Backend, label = "split"): Place {
  switch (backend) {
    case "memory":
      return { url: `memory://${label}-${randomUUID()}`, cleanup: async () => {} };
    case "sqlite": {
      const dir = tempDir();
      return { url: `sqlite://${join(dir.path, "omniq.db")}`, cleanup: async () => dir.remove() };
    }
    case "file": {
      const dir = tempDir();
      return { url: `file://${join(dir.path, "store")}`, cleanup: async () => dir.remove() };
    }
    case "postgres": {
      const schema = uniqueSchema(label);
      return { url: `${POSTGRES_URL}?schema=${schema}`, cleanup: () => dropSchema(schema) };
    }
    case "redis": {
      const prefix = testPrefix(label);
      return { url: `${REDIS_URL}?prefix=${prefix}`, cleanup: () => deleteKeys(REDIS_URL, prefix) };
    }
    case "nats": {
      const prefix = `${label}-${randomUUID().slice(0, 8)}`;
      return {
        url: `${NATS_URL}?prefix=${prefix}`,
        cleanup: () => destroyNatsStorage(NATS_URL, { prefix }),
      };
    }
  }
}
