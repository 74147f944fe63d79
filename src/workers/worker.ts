import { randomUUID } from "node:crypto";
import type { OmniQLogger } from "../config/logger.js";
import { toErrorInfo } from "../errors.js";
import type { ClaimRequest, Settlement, Storage, StorageSignal } from "../storage/contract.js";
import { openStorage } from "../storage/open.js";
import { takesResults, withResults } from "../task/dependencies.js";
import type { ClaimedTask } from "../task/record.js";
import type { WorkerType } from "../task/state.js";
import { Attempt, type AttemptHandle, completed, failed } from "./attempt.js";
import { Coordinator } from "./coordinator.js";
import { cancelHeld, heartbeat, housekeep, repeat } from "./lease-keeping.js";
import { LivenessCheck, type WorkerHealth } from "./liveness.js";
import { type CompleteSettings, completeSettings, type WorkerSettings } from "./options.js";
import { Settler } from "./settler.js";
import { Slots } from "./slots.js";
import { Stopping, type StopTarget } from "./stopping.js";
import { Wakeup } from "./wakeup.js";

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
  /** The settings with every default of this worker type filled in. */
  protected readonly settings: CompleteSettings;
  private storage!: Storage;
  private settler!: Settler;
  /** What lease keeping and the stop path see of this worker; made once started. */
  private view!: StopTarget;
  private readonly slots = new Slots({
    capacity: () => this.capacity,
    refillAt: () => this.refillAt,
  });
  private readonly wakeup = new Wakeup();
  private readonly timers: NodeJS.Timeout[] = [];
  private state: "new" | "running" | "stopping" | "stopped" = "new";
  private loopDone: Promise<void> = Promise.resolve();
  private starting: Promise<void> | undefined;
  private stopping: Stopping | undefined;
  private stopped: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private coordinator: Coordinator | undefined;
  private readonly liveness: LivenessCheck;

  /**
   * @param source - the storage to use, or a URL to open at start (and close at stop).
   */
  protected constructor(
    readonly type: WorkerType,
    private readonly source: string | Storage,
    settings: WorkerSettings,
  ) {
    this.settings = completeSettings(type, settings);
    this.id = `${type}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.log = settings.logger.child({ worker: this.id });
    this.liveness = new LivenessCheck(
      this.settings.livenessCheckMs,
      this.settings.clock,
      this.log,
      {
        wantsWork: () =>
          this.state === "running" &&
          this.slots.held.size < this.capacity &&
          this.slots.held.size <= this.refillAt,
        forceClaim: () => {
          this.wakeup.wake();
          this.slots.freed.wake();
        },
        resubscribe: () => this.subscribeSignals(),
        notifies: () => this.storage.subscribe !== undefined,
      },
    );
  }

  /**
   * Runs one task's function and returns its encoded result. Calls
   * `attempt.started()` when the function begins: the task's timeout counts
   * from there, so a task waiting for a free thread is not timed out for the
   * wait. A string returned (rather than a promise) settles the attempt at once.
   */
  protected abstract execute(task: ClaimedTask, attempt: AttemptHandle): string | Promise<string>;

  /** Prepares what `execute` needs (pools, task modules). */
  protected async prepare(): Promise<void> {}

  /** Releases what `prepare` made. */
  protected async dispose(): Promise<void> {}

  /**
   * Called when the tasks still held at the stop deadline have had their
   * signals fired, before they are handed back: a worker type that can end
   * what runs them (a thread, a child) does so here, so that no task runs in
   * two places at once.
   */
  protected async endInterrupted(): Promise<void> {}

  /** `stop({ timeoutMs: 0 })` came while `endInterrupted` waits: end what runs now. */
  protected hurryEnding(): void {}

  /** Tasks this worker holds right now. */
  get activeCount(): number {
    return this.slots.held.size;
  }

  /** Tasks this worker runs at once: for thread and process workers, its threads or children. */
  get concurrency(): number {
    return this.settings.concurrency;
  }

  /**
   * How the worker is doing: whether it claims when it has room, and what
   * its liveness check found (see `livenessCheck` in the worker options).
   */
  health(): WorkerHealth {
    return {
      worker: this.id,
      type: this.type,
      state: this.state,
      held: this.slots.held.size,
      concurrency: this.concurrency,
      ...this.liveness.report(),
    };
  }

  /** Names of the task definitions loaded so far where this worker runs them. */
  taskNames(): string[] {
    return [];
  }

  /** Tasks held at most: the concurrency, plus tasks waiting for a free thread or child. */
  protected get capacity(): number {
    return this.settings.concurrency;
  }

  /**
   * The loop claims only when it holds this many tasks or fewer.
   * @default capacity - 1: whenever a slot is free
   */
  protected get refillAt(): number {
    return this.capacity - 1;
  }

  /** True once `stop` was asked to end at once: what is still running is not waited for. */
  protected get hurry(): boolean {
    return this.stopping?.hurry ?? false;
  }

  /**
   * Starts claiming and running tasks. Resolves once the worker runs; calling it again waits for
   * the same start.
   */
  start(): Promise<void> {
    this.starting ??= this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    if (this.state !== "new") return;
    this.storage = typeof this.source === "string" ? await openStorage(this.source) : this.source;
    this.slots.earlyRelease = this.storage.settleAndClaim === undefined;
    this.settler = new Settler(
      this.storage,
      (settlement, applied) => this.settled(settlement, applied),
      (error) => this.log.warn({ err: toErrorInfo(error) }, "settling failed; will retry"),
      {
        request: (settling) => this.refillRequest(settling),
        claimed: (tasks) => {
          this.liveness.refilled();
          for (const task of tasks) this.begin(task);
        },
        done: () => this.slots.refilled(),
      },
    );
    this.view = this.shared();
    try {
      await this.prepare();
    } catch (error) {
      await this.dispose().catch(() => {});
      if (typeof this.source === "string") await this.storage.close();
      this.state = "stopped";
      throw error;
    }
    this.state = "running";

    this.subscribeSignals();
    this.every(this.settings.heartbeatMs, () => heartbeat(this.view, this.settings.leaseMs));
    const maintain = () => housekeep(this.storage, this.settings, this.log);
    this.every(Math.max(1_000, this.settings.leaseMs / 2), maintain);
    void maintain();
    if (this.settings.coordinate) {
      this.coordinator = new Coordinator(
        this.storage,
        this.settings.clock,
        this.settings.leaseMs,
        this.log,
      );
      this.coordinator.start();
    }
    this.liveness.started();
    const checkMs = this.settings.livenessCheckMs;
    if (checkMs > 0) this.every(checkMs, async () => this.liveness.tick());

    this.loopDone = this.claimLoop();
    this.log.info(
      { queues: this.settings.queues, concurrency: this.settings.concurrency },
      "worker started",
    );
  }

  /**
   * Stops claiming, lets running tasks finish within the stop timeout, then
   * hands back what is still running so that another worker runs it.
   * Called again while stopping, it shortens the wait: `{ timeoutMs: 0 }`
   * hands everything back at once.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.settings.stopTimeoutMs;
    if (this.stopping) {
      this.stopping.shorten(timeoutMs);
      return this.stopped;
    }
    if (this.state !== "running") {
      this.state = "stopped";
      return;
    }
    this.stopping = new Stopping(this.view);
    this.stopped = this.shutDown(this.stopping, timeoutMs);
    return this.stopped;
  }

  private async shutDown(stopping: Stopping, timeoutMs: number): Promise<void> {
    this.state = "stopping";
    // The deadline counts from the stop call, before the coordinator's last
    // round ends, so a second stop meanwhile can still bring it nearer.
    stopping.begin(timeoutMs);
    await this.coordinator?.stop();
    this.wakeup.wake();
    this.slots.freed.wake();
    await this.loopDone;

    await stopping.finish();

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
      const free = this.slots.claimable();
      if (free === 0) {
        await this.slots.waitForSlot();
        continue;
      }

      this.wakeup.reset();
      const tasks = await this.claim(Math.min(free, this.settings.claimBatch));
      if (tasks === null) {
        await this.wakeup.next(CLAIM_RETRY_MS);
      } else if (tasks.length === 0) {
        this.coordinator?.claimFoundNothing();
        await this.wakeup.next(this.settings.pollIntervalMs);
      } else {
        for (const task of tasks) this.begin(task);
      }
    }
  }

  private async claim(limit: number): Promise<ClaimedTask[] | null> {
    this.liveness.claimStarted();
    let tasks: ClaimedTask[] | null = null;
    try {
      tasks = await this.storage.claim(this.claimRequest(limit));
    } catch (error) {
      this.log.warn({ err: toErrorInfo(error) }, "claim failed; will retry");
    }
    this.liveness.claimEnded(tasks);
    return tasks;
  }

  private claimRequest(limit: number): ClaimRequest {
    return {
      queues: this.settings.queues,
      workers: [this.type],
      limit,
      owner: this.id,
      leaseMs: this.settings.leaseMs,
    };
  }

  /**
   * The claim a settlement write makes for this worker, where the backend
   * does both in one step: the claim the loop would make once the
   * settlements free their slots. Only while the loop waits for a slot,
   * so the two never claim at once.
   */
  private refillRequest(settling: number): ClaimRequest | null {
    if (this.state !== "running") return null;
    const limit = this.slots.refill(settling);
    return limit === null ? null : this.claimRequest(Math.min(limit, this.settings.claimBatch));
  }

  private begin(task: ClaimedTask): void {
    const attempt = new Attempt(task);
    this.slots.held.set(task.id, attempt);
    if (!takesResults(task)) {
      this.run(attempt);
      return;
    }

    // The results its dependencies left go before its own arguments.
    withResults(this.storage, task).then(
      (given) => {
        attempt.task = given;
        this.run(attempt);
      },
      (error: unknown) => this.fail(attempt, error),
    );
  }

  /**
   * Tells the worker that tasks with dependencies were just enqueued in this
   * process, so that it looks for ones ready to go at once.
   */
  dependentsEnqueued(): void {
    this.coordinator?.dependentsEnqueued();
  }

  /**
   * Runs an attempt and hands its settlement to the settler. A function
   * that returns at once is settled in the same turn, with no promise made:
   * for a small task the promises would cost more than the task.
   */
  private run(attempt: Attempt): void {
    let outcome: string | Promise<string>;
    try {
      outcome = this.execute(attempt.task, attempt);
    } catch (error) {
      this.fail(attempt, error);
      return;
    }

    if (typeof outcome === "string") {
      attempt.ended();
      this.end(attempt, completed(attempt, outcome));
      return;
    }
    attempt.race(outcome).then(
      (result) => {
        attempt.ended();
        this.end(attempt, completed(attempt, result));
      },
      (error: unknown) => this.fail(attempt, error),
    );
  }

  private fail(attempt: Attempt, error: unknown): void {
    attempt.ended();
    this.end(attempt, failed(attempt, error, this.settings.clock.now()));
  }

  private end(attempt: Attempt, settlement: Settlement): void {
    // A lost lease belongs to someone else now; a handed-back task is already waiting again.
    if (attempt.interrupted === "lost" || attempt.interrupted === "stopping") return;
    this.slots.ended(settlement.id);
    this.settler.add(settlement);
  }

  private settled(settlement: Settlement, applied: boolean): void {
    this.slots.release(settlement.id);
    if (!applied) {
      this.log.warn({ task: settlement.id }, "settlement refused: the lease was lost meanwhile");
    }
  }

  /** Subscribes to the storage's wake-ups, dropping an earlier subscription first. */
  private subscribeSignals(): void {
    this.unsubscribe?.();
    this.unsubscribe = this.storage.subscribe?.((signal) => this.onSignal(signal));
  }

  private onSignal(signal: StorageSignal): void {
    if (signal.type === "ready" && this.settings.queues.includes(signal.queue)) {
      this.liveness.heard();
      this.wakeup.wake();
    } else if (signal.type === "finished") {
      this.coordinator?.tasksFinished();
    } else if (signal.type === "cancel") {
      cancelHeld(this.view, signal.id);
    }
  }

  /** Ends an attempt early: its signal fires and the task settles as the reason says. */
  protected interrupt(attempt: Attempt, why: NonNullable<Attempt["interrupted"]>, reason: string) {
    if (attempt.interrupted) return;
    attempt.interrupted = why;
    attempt.cancelReason = reason;
    attempt.abort(new Error(reason));
  }

  /**
   * What the lease keeping and the stop path (lease-keeping.ts, stopping.ts)
   * see of this worker: its parts, and its worker type's hooks. Made once
   * the storage and settler exist.
   */
  private shared(): StopTarget {
    return {
      slots: this.slots,
      settler: this.settler,
      storage: this.storage,
      log: this.log,
      interrupt: (attempt, why, reason) => this.interrupt(attempt, why, reason),
      endInterrupted: () => this.endInterrupted(),
      hurryEnding: () => this.hurryEnding(),
    };
  }

  private every(ms: number, fn: () => Promise<void>): void {
    this.timers.push(repeat(ms, fn));
  }
}
