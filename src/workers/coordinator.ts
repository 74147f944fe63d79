// A worker's duties beyond its own tasks: firing due schedules and moving
// dependent tasks on. Every worker does them, so a deployment needs no
// separate scheduler process; several doing them at once is safe (see
// schedule/scheduler.ts and task/dependencies.ts for why).
import type { OmniQLogger } from "../config/logger.js";
import { toErrorInfo } from "../errors.js";
import { Scheduler } from "../schedule/scheduler.js";
import type { Clock, Storage } from "../storage/contract.js";
import { resolveDependencies } from "../task/dependencies.js";

/** How often schedules are listed when none is due sooner: new ones from elsewhere show up within it. */
const SCHEDULE_LOOK_MS = 1_000;
/** The shortest wait between two looks at schedules. */
const SCHEDULE_MIN_WAIT_MS = 20;
/** How often blocked tasks are looked at when no task here finished. */
const RESOLVE_EVERY_MS = 1_000;

export class Coordinator {
  private readonly scheduler: Scheduler;
  private scheduleTimer: NodeJS.Timeout | undefined;
  private resolveTimer: NodeJS.Timeout | undefined;
  private resolving: Promise<void> | null = null;
  private resolveAgain = false;
  /** Whether the last look found blocked tasks: only then do finished tasks prompt another. */
  private sawBlocked = true;
  private stopped = false;

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    leaseMs: number,
    private readonly log: OmniQLogger,
  ) {
    this.scheduler = new Scheduler(storage, { now: () => clock.now(), staleMs: leaseMs, log });
  }

  start(): void {
    this.scheduleSoon(0);
    this.resolveTimer = setInterval(() => this.resolve(), RESOLVE_EVERY_MS);
    this.resolveTimer.unref();
  }

  /** Tasks finished: a blocked task may be free to go. */
  tasksFinished(): void {
    if (this.sawBlocked) this.resolve();
  }

  /**
   * Tasks with dependencies were enqueued in this process: look at once, and
   * again whenever tasks finish. (From other processes they are found by
   * the look every second.)
   */
  dependentsEnqueued(): void {
    this.sawBlocked = true;
    this.resolve();
  }

  /** Stops both duties; resolves once a round that is under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.scheduleTimer);
    clearInterval(this.resolveTimer);
    await this.resolving;
  }

  private scheduleSoon(ms: number): void {
    if (this.stopped) return;
    this.scheduleTimer = setTimeout(() => void this.fireSchedules(), ms);
    this.scheduleTimer.unref();
  }

  private async fireSchedules(): Promise<void> {
    let nextDueAt = Number.POSITIVE_INFINITY;
    try {
      ({ nextDueAt } = await this.scheduler.fireDue());
    } catch (error) {
      this.log.warn({ err: toErrorInfo(error) }, "reading schedules failed; will retry");
    }
    const untilDue = nextDueAt - this.clock.now();
    this.scheduleSoon(Math.max(SCHEDULE_MIN_WAIT_MS, Math.min(SCHEDULE_LOOK_MS, untilDue)));
  }

  /** One resolver round at a time; a call during a round asks for one more after it. */
  private resolve(): void {
    if (this.stopped) return;
    if (this.resolving) {
      this.resolveAgain = true;
      return;
    }
    this.resolving = this.resolveRound().finally(() => {
      this.resolving = null;
      if (this.resolveAgain) {
        this.resolveAgain = false;
        this.resolve();
      }
    });
  }

  private async resolveRound(): Promise<void> {
    try {
      const report = await resolveDependencies(this.storage, this.clock.now());
      this.sawBlocked = report.blocked > 0;
    } catch (error) {
      this.log.warn({ err: toErrorInfo(error) }, "resolving dependencies failed; will retry");
    }
  }
}
