import type { OmniQLogger } from "../config/logger.js";
import type { Clock } from "../storage/contract.js";
import type { ClaimedTask } from "../task/record.js";
import type { WorkerType } from "../task/state.js";

/**
 * How a worker is doing at claiming:
 * - `ok`: it claims when it has room;
 * - `degraded`: tasks were found waiting that no wake-up had announced (a
 *   wake-up connection that died or lost messages), and no wake-up has
 *   arrived since; the worker goes on claiming through its polls and the
 *   liveness check's own claim rounds;
 * - `stalled`: it does not claim although it has room: a claim that has not
 *   returned within the check's interval, or a claim loop that did not
 *   answer a forced claim round.
 */
export type WorkerStatus = "ok" | "degraded" | "stalled";

/** One worker's health, from `worker.health()` or `omniq.health()`. */
export interface WorkerHealth {
  /** The worker's id, as in its log lines and leases. */
  worker: string;
  type: WorkerType;
  /** Where the worker is in its life. */
  state: "new" | "running" | "stopping" | "stopped";
  status: WorkerStatus;
  /** What is wrong, in words; null when `status` is `ok`. */
  problem: string | null;
  /** Tasks the worker holds now. */
  held: number;
  /** Tasks it runs at once. */
  concurrency: number;
  /** When the last claim call returned, in ms since the epoch; null before the first. */
  lastClaimAt: number | null;
  /** How long the claim call under way has been running, in ms; null when none is. */
  claimRunningMs: number | null;
  /**
   * Tasks the liveness check's claim rounds found waiting that no wake-up had announced, in all.
   */
  overlooked: number;
  /**
   * The last time the check found such tasks: when (ms since the epoch), how many, the longest wait
   * in ms.
   */
  lastOverlooked: { at: number; tasks: number; waitedMs: number } | null;
}

/** What the check needs from its worker. */
export interface LivenessHooks {
  /** Whether the claim loop should be claiming now: the worker runs and has room. */
  wantsWork(): boolean;
  /** Wakes the claim loop from whatever it waits for, so that it claims at once. */
  forceClaim(): void;
  /** Drops the worker's wake-up subscription and subscribes again. */
  resubscribe(): void;
  /**
   * Whether the storage sends wake-ups at all; without them, finding tasks by polling is normal.
   */
  notifies(): boolean;
}

/** A task found this soon after it was enqueued may have had its wake-up still on the way. */
const MAX_GRACE_MS = 1_000;

/**
 * The worker's liveness check. The claim loop reports each claim call; a
 * timer calls `tick` every `intervalMs`. A worker with room that has not
 * claimed for that long gets a forced claim round; tasks that round finds,
 * enqueued due and well before the round (a quarter of the interval, at most
 * a second), waited without a wake-up reaching the worker: it warns, subscribes again, and counts
 * them.
 * A claim call that does not return within the interval, or a loop that
 * does not start the forced round by the next tick, is reported as
 * `stalled` (a claim cannot be abandoned safely; every backend times its
 * calls out on its own).
 *
 * All of this costs the claim path two clock reads per claim call.
 */
export class LivenessCheck {
  private claimStartedAt = 0;
  private lastClaimEndedAt = 0;
  private lastClaimStartedAt = 0;
  private probe: { at: number; clockAt: number } | null = null;
  private stall: "claim" | "loop" | null = null;
  private degraded = false;
  private overlooked = 0;
  private lastOverlooked: WorkerHealth["lastOverlooked"] = null;
  private everClaimed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly log: OmniQLogger,
    private readonly hooks: LivenessHooks,
  ) {}

  /** The worker starts: idleness counts from now. */
  started(): void {
    this.lastClaimEndedAt = Date.now();
  }

  claimStarted(): void {
    const now = Date.now();
    this.claimStartedAt = now;
    this.lastClaimStartedAt = now;
    if (this.stall === "loop") {
      this.stall = null;
      this.log.info({}, "the claim loop is claiming again");
    }
  }

  /** A claim call returned, with its tasks, or null when it failed. */
  claimEnded(tasks: readonly ClaimedTask[] | null): void {
    const now = Date.now();
    if (this.stall === "claim") {
      this.stall = null;
      this.log.info({ claimMs: now - this.claimStartedAt }, "the stuck claim returned");
    }
    this.claimStartedAt = 0;
    this.lastClaimEndedAt = now;
    this.everClaimed = true;

    const probe = this.probe;
    if (probe && this.lastClaimStartedAt >= probe.at) {
      this.probe = null;
      if (tasks && tasks.length > 0) this.review(tasks, probe.clockAt);
    }
  }

  /**
   * The settling write claimed for the worker (`Storage.settleAndClaim`): a
   * claim all the same, so a worker kept busy that way is not idle.
   */
  refilled(): void {
    this.lastClaimEndedAt = Date.now();
    this.everClaimed = true;
  }

  /** A wake-up for one of the worker's queues arrived: the wake-up path works. */
  heard(): void {
    this.degraded = false;
  }

  /** One look, run by the worker's timer. */
  tick(): void {
    const now = Date.now();
    if (this.claimStartedAt > 0) {
      this.checkRunningClaim(now - this.claimStartedAt);
      return;
    }
    if (!this.hooks.wantsWork()) {
      this.probe = null;
      return;
    }

    if (this.probe) {
      // Woken at the last look, and still no claim: the loop is stuck somewhere.
      if (this.stall !== "loop") {
        this.stall = "loop";
        this.log.warn(
          { idleMs: now - this.lastClaimEndedAt },
          "the claim loop did not answer a forced claim round; trying again",
        );
      }
      this.hooks.forceClaim();
    } else if (now - this.lastClaimEndedAt >= this.intervalMs) {
      this.probe = { at: now, clockAt: this.clock.now() };
      this.hooks.forceClaim();
    }
  }

  /** The health fields this check knows. */
  report(): Pick<
    WorkerHealth,
    "status" | "problem" | "lastClaimAt" | "claimRunningMs" | "overlooked" | "lastOverlooked"
  > {
    const now = Date.now();
    return {
      status: this.stall ? "stalled" : this.degraded ? "degraded" : "ok",
      problem: this.describe(now),
      lastClaimAt: this.everClaimed ? this.lastClaimEndedAt : null,
      claimRunningMs: this.claimStartedAt > 0 ? now - this.claimStartedAt : null,
      overlooked: this.overlooked,
      lastOverlooked: this.lastOverlooked,
    };
  }

  private checkRunningClaim(runningMs: number): void {
    if (runningMs < this.intervalMs || this.stall === "claim") return;
    this.stall = "claim";
    this.log.warn({ claimMs: runningMs }, "a claim has not returned; the worker takes no tasks");
  }

  /** Looks at what a forced round found: tasks a wake-up should have announced. */
  private review(tasks: readonly ClaimedTask[], probeAt: number): void {
    // Due when enqueued (not delayed, not a retry) and enqueued well before the round.
    const grace = Math.min(MAX_GRACE_MS, this.intervalMs / 4);
    const missed = tasks.filter((t) => t.runAt <= t.createdAt && t.createdAt < probeAt - grace);
    if (missed.length === 0 || !this.hooks.notifies()) {
      this.log.debug({ tasks: tasks.length }, "the liveness check's claim round found tasks");
      return;
    }

    const waitedMs = Math.max(...missed.map((t) => probeAt - t.createdAt));
    this.overlooked += missed.length;
    this.lastOverlooked = { at: Date.now(), tasks: missed.length, waitedMs };
    this.degraded = true;
    this.log.warn(
      { tasks: missed.length, waitedMs, task: missed[0]?.id },
      "tasks waited with no wake-up while this worker had room; claimed them, subscribing again",
    );
    this.hooks.resubscribe();
  }

  private describe(now: number): string | null {
    if (this.stall === "claim") {
      return `a claim has been running for ${now - this.claimStartedAt} ms`;
    }
    if (this.stall === "loop") {
      return `the claim loop has not claimed for ${now - this.lastClaimEndedAt} ms although the worker has room`;
    }
    if (this.degraded) {
      return "tasks waited that no wake-up announced, and no wake-up has arrived since";
    }
    return null;
  }
}
