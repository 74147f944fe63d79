import { randomUUID } from "node:crypto";
import type { OmniQLogger } from "../config/logger.js";
import { toErrorInfo } from "../errors.js";
import type { Settlement, Storage, StorageSignal } from "../storage/contract.js";
import { openStorage } from "../storage/open.js";
import type { ClaimedTask } from "../task/record.js";
import type { WorkerType } from "../task/state.js";
import { type Attempt, armTimeout, completed, failed, raceSignal } from "./attempt.js";
import type { WorkerSettings } from "./options.js";
import { Settler } from "./settler.js";
import { Wakeup } from "./wakeup.js";

/** At most this many tasks per claim, however high the concurrency. */
const MAX_CLAIM_BATCH = 100;

/** Pause after a failed claim before trying again, in ms. */
const CLAIM_RETRY_MS = 500;

/**
 * What every worker type shares: the claim loop, leases and heartbeats,
 * timeouts, retries, batched settlements and graceful stop. A worker type
 * says only how to run one task (`execute`).
 */
export abstract class Worker {
  /** Identifies this worker as a lease owner. */
  readonly id: string;

  protected readonly log: OmniQLogger;
  private storage!: Storage;
  private settler!: Settler;
  private readonly held = new Map<string, Attempt>();
  private readonly wakeup = new Wakeup();
  private readonly slotFreed = new Wakeup();
  private readonly timers: NodeJS.Timeout[] = [];
  private state: "new" | "running" | "stopping" | "stopped" = "new";
  private loopDone: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;

  /**
   * @param source - the storage to use, or a URL to open at start (and close at stop).
   */
  protected constructor(
    readonly type: WorkerType,
    private readonly source: string | Storage,
    protected readonly settings: WorkerSettings,
  ) {
    this.id = `${type}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.log = settings.logger.child({ worker: this.id });
  }

  /** Runs one task's function and returns its encoded result. */
  protected abstract execute(task: ClaimedTask, signal: AbortSignal): Promise<string>;

  /** Prepares what `execute` needs (pools, task modules). */
  protected async prepare(): Promise<void> {}

  /** Releases what `prepare` made. */
  protected async dispose(): Promise<void> {}

  /** Tasks this worker holds right now. */
  get activeCount(): number {
    return this.held.size;
  }

  /** Starts claiming and running tasks. */
  async start(): Promise<void> {
    if (this.state !== "new") return;
    this.storage = typeof this.source === "string" ? await openStorage(this.source) : this.source;
    this.settler = new Settler(
      this.storage,
      (settlement, applied) => this.settled(settlement, applied),
      (error) => this.log.warn({ err: toErrorInfo(error) }, "settling failed; will retry"),
    );
    await this.prepare();
    this.state = "running";

    this.unsubscribe = this.storage.subscribe?.((signal) => this.onSignal(signal));
    this.every(this.settings.heartbeatMs, () => this.heartbeat());
    this.every(Math.max(1_000, this.settings.leaseMs / 2), () => this.maintain());
    void this.maintain();

    this.loopDone = this.claimLoop();
    this.log.info(
      { queues: this.settings.queues, concurrency: this.settings.concurrency },
      "worker started",
    );
  }

  /**
   * Stops claiming, lets running tasks finish within the stop timeout, then
   * hands back what is still running so that another worker runs it.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.state !== "running") {
      this.state = "stopped";
      return;
    }
    this.state = "stopping";
    this.wakeup.wake();
    this.slotFreed.wake();
    await this.loopDone;

    await this.drain(options.timeoutMs ?? this.settings.stopTimeoutMs);
    await this.settler.flushed();
    await this.handBack();

    this.settler.close();
    for (const timer of this.timers) clearInterval(timer);
    this.unsubscribe?.();
    await this.dispose();
    if (typeof this.source === "string") await this.storage.close();
    this.state = "stopped";
    this.log.info({}, "worker stopped");
  }

  private async claimLoop(): Promise<void> {
    while (this.state === "running") {
      const free = this.settings.concurrency - this.held.size;
      if (free <= 0) {
        await this.slotFreed.next();
        continue;
      }

      this.wakeup.reset();
      const tasks = await this.claim(Math.min(free, MAX_CLAIM_BATCH));
      if (tasks === null) {
        await this.wakeup.next(CLAIM_RETRY_MS);
      } else if (tasks.length === 0) {
        await this.wakeup.next(this.settings.pollIntervalMs);
      } else {
        for (const task of tasks) this.begin(task);
      }
    }
  }

  private async claim(limit: number): Promise<ClaimedTask[] | null> {
    try {
      return await this.storage.claim({
        queues: this.settings.queues,
        workers: [this.type],
        limit,
        owner: this.id,
        leaseMs: this.settings.leaseMs,
      });
    } catch (error) {
      this.log.warn({ err: toErrorInfo(error) }, "claim failed; will retry");
      return null;
    }
  }

  private begin(task: ClaimedTask): void {
    const attempt: Attempt = { task, controller: new AbortController() };
    this.held.set(task.id, attempt);
    void this.run(attempt);
  }

  private async run(attempt: Attempt): Promise<void> {
    const stopTimeout = armTimeout(attempt);
    let settlement: Settlement;
    try {
      const work = this.execute(attempt.task, attempt.controller.signal);
      const result = await raceSignal(work, attempt.controller.signal);
      settlement = completed(attempt, result);
    } catch (error) {
      settlement = failed(attempt, error, this.settings.clock.now());
    } finally {
      stopTimeout();
    }

    // A lost lease belongs to someone else now; a handed-back task is already waiting again.
    if (attempt.interrupted === "lost" || attempt.interrupted === "stopping") return;
    this.settler.add(settlement);
  }

  private settled(settlement: Settlement, applied: boolean): void {
    this.held.delete(settlement.id);
    this.slotFreed.wake();
    if (!applied) {
      this.log.warn({ task: settlement.id }, "settlement refused: the lease was lost meanwhile");
    }
  }

  private onSignal(signal: StorageSignal): void {
    if (signal.type === "ready" && this.settings.queues.includes(signal.queue)) {
      this.wakeup.wake();
    } else if (signal.type === "cancel") {
      const attempt = this.held.get(signal.id);
      if (attempt) this.interrupt(attempt, "cancel", "cancelled while running");
    }
  }

  /** Ends an attempt early: its signal fires and the task settles as the reason says. */
  protected interrupt(attempt: Attempt, why: NonNullable<Attempt["interrupted"]>, reason: string) {
    if (attempt.interrupted) return;
    attempt.interrupted = why;
    attempt.cancelReason = reason;
    attempt.controller.abort(new Error(reason));
  }

  private async heartbeat(): Promise<void> {
    const leases = [...this.held.values()].map(({ task }) => ({ id: task.id, token: task.token }));
    if (leases.length === 0) return;

    try {
      const reply = await this.storage.heartbeat(leases, this.settings.leaseMs);
      for (const id of reply.lost) this.loseLease(id);
      for (const id of reply.cancelRequested) {
        const attempt = this.held.get(id);
        if (attempt) this.interrupt(attempt, "cancel", "cancelled while running");
      }
    } catch (error) {
      this.log.warn({ err: toErrorInfo(error) }, "heartbeat failed; will retry");
    }
  }

  private loseLease(id: string): void {
    const attempt = this.held.get(id);
    if (!attempt) return;
    this.log.warn({ task: id }, "lease lost: another worker may run this task");
    this.interrupt(attempt, "lost", "the worker lost its lease on this task");
    this.held.delete(id);
    this.slotFreed.wake();
  }

  private async maintain(): Promise<void> {
    try {
      await this.storage.maintain({
        maxLeaseLosses: this.settings.maxLeaseLosses,
        eventTtlMs: this.settings.eventTtlMs,
      });
    } catch (error) {
      this.log.warn({ err: toErrorInfo(error) }, "housekeeping failed; will retry");
    }
  }

  /** Waits until nothing is held or the deadline passes. */
  private async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.held.size > 0 && Date.now() < deadline) {
      await this.slotFreed.next(deadline - Date.now());
      await this.settler.flushed();
    }
  }

  /** Gives back what is still running after the deadline, without counting the attempt. */
  private async handBack(): Promise<void> {
    const attempts = [...this.held.values()];
    if (attempts.length === 0) return;

    for (const attempt of attempts) this.interrupt(attempt, "stopping", "the worker is stopping");
    try {
      await this.storage.release(attempts.map(({ task }) => ({ id: task.id, token: task.token })));
    } catch (error) {
      this.log.warn({ err: toErrorInfo(error) }, "hand-back failed; the leases will run out");
    }
    this.held.clear();
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void fn().finally(() => {
        busy = false;
      });
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}
