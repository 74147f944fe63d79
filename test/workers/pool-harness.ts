// What the thread and process worker suites share: a producer and a worker
// on a fresh SQLite store, and small assertions.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  OmniQ,
  ProcessWorker,
  TaskFailedError,
  ThreadWorker,
  type WorkerOptions,
} from "../../src/index.js";
import { freshUrl } from "../helpers/omniq.js";
import { tempDir } from "../helpers/temp.js";

export type PoolType = "thread" | "process";

export const TASKS_MODULE = fileURLToPath(new URL("../fixtures/workers/tasks.ts", import.meta.url));
export const BROKEN_MODULE = fileURLToPath(
  new URL("../fixtures/workers/broken-tasks.ts", import.meta.url),
);

/** The worker class of a pool type. */
export function workerClass(type: PoolType): typeof ThreadWorker | typeof ProcessWorker {
  return type === "thread" ? ThreadWorker : ProcessWorker;
}

/** A producer and a started worker of `type` on a fresh SQLite store. */
export async function startPool(type: PoolType, options: Partial<WorkerOptions> = {}) {
  const store = freshUrl("sqlite");
  const producer = await OmniQ.open({
    storage: store.url,
    worker: false,
    pollInterval: 20,
    defaultWorker: type,
  });
  const Type = workerClass(type);
  const worker = new Type({
    storage: store.url,
    concurrency: 1,
    pollInterval: 20,
    lease: "2s",
    ...options,
  });
  const dir = tempDir();
  await worker.start();
  return {
    producer,
    worker,
    url: store.url,
    file: (name: string) => join(dir.path, name),
    async close() {
      await worker.stop();
      await producer.close();
      dir.remove();
      store.remove();
    },
  };
}

/** Where a task ran: a thread id in a thread worker, a pid in a process worker. */
export function memberOf(type: PoolType, where: { threadId: number; pid: number }): number {
  return type === "thread" ? where.threadId : where.pid;
}

export async function failure(producer: OmniQ, id: string): Promise<TaskFailedError> {
  const error = await producer.getResult(id, { timeout: "15s" }).catch((e: unknown) => e);
  assert.ok(error instanceof TaskFailedError, `expected a failure, got ${String(error)}`);
  return error;
}
