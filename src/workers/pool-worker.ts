import type { OmniQLogger } from "../config/logger.js";
import type { ClaimedTask } from "../task/record.js";
import type { AttemptHandle } from "./attempt.js";
import type { CompleteSettings } from "./options.js";
import type { SpawnMember } from "./pool/member.js";
import { Pool } from "./pool/pool.js";
import { findTsxApi } from "./runtime/entry.js";
import type { TaskSpec } from "./runtime/protocol.js";
import { Worker } from "./worker.js";

/**
 * What thread and process workers share: tasks run in a pool of
 * `concurrency` threads or child processes, one task each at a time, while
 * claims, heartbeats and settlements stay on this process's event loop, so a
 * task that blocks its own thread or process cannot lose its lease.
 */
export abstract class PoolWorker extends Worker {
  private pool: Pool | undefined;

  /** How this worker type starts one thread or child process. */
  protected abstract spawner(): SpawnMember;

  /** Names of the tasks the threads or child processes have loaded from the `tasks` option. */
  override taskNames(): string[] {
    return this.pool?.taskNames ?? [];
  }

  // Each thread or child also holds the next task, so that it never waits on
  // a claim's round trip between tasks.
  protected override get capacity(): number {
    return this.settings.concurrency + this.settings.prefetch;
  }

  // Claims wait until the waiting tasks are all taken, then refill them in
  // one batch: one claim per `prefetch` tasks instead of one per task.
  protected override get refillAt(): number {
    return this.settings.concurrency;
  }

  protected override async prepare(): Promise<void> {
    this.pool = makePool(this.settings, this.settings.concurrency, this.spawner(), this.log);
    await this.pool.start();
  }

  protected override execute(task: ClaimedTask, attempt: AttemptHandle): Promise<string> {
    const pool = this.pool;
    if (!pool) return Promise.reject(new Error("the worker has not started"));
    return pool.run(taskSpec(task), attempt.signal, () => attempt.started());
  }

  // Members still running handed-back tasks get the abort grace to end them, then are killed.
  protected override async endInterrupted(): Promise<void> {
    await this.pool?.close(this.hurry ? 0 : this.settings.abortGraceMs);
  }

  protected override hurryEnding(): void {
    void this.pool?.close(0);
  }

  protected override async dispose(): Promise<void> {
    await this.pool?.close(this.hurry ? 0 : this.settings.abortGraceMs);
  }
}

/** A pool of `size` members, set up from the worker's settings. */
export function makePool(
  settings: CompleteSettings,
  size: number,
  spawn: SpawnMember,
  log: OmniQLogger,
): Pool {
  return new Pool({
    size,
    spawn,
    modules: settings.tasks,
    tsxApi: findTsxApi(),
    abortGraceMs: settings.abortGraceMs,
    recycleAfterTasks: settings.recycleAfterTasks,
    recycleAboveMb: settings.recycleAboveMb,
    memoryLimitMb: settings.memoryLimitMb,
    log,
  });
}

/** What a thread or child needs of a claimed task. */
export function taskSpec(task: ClaimedTask): TaskSpec {
  return {
    id: task.id,
    name: task.name,
    queue: task.queue,
    attempt: task.attempts,
    failures: task.attempts - task.leaseLosses,
    payload: task.payload,
    module: task.module,
  };
}
