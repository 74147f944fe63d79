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

/**
 * Looking for blocked tasks reads the storage's task list, which on some
 * backends is a scan. So a look is spaced after the one before by at least
 * `SPACING` times as long as that one took: it never takes more than about
 * 2% of the worker's time, however many tasks are stored.
 */
const SPACING = 50;
/** Without any hint, blocked tasks are looked for at least this often, spaced as above. */
const RESOLVE_EVERY_MS = 1_000;

export class Coordinator {
  private readonly scheduler: Scheduler;
  private scheduleTimer: NodeJS.Timeout | undefined;
  private resolveTimer: NodeJS.Timeout | undefined;
  private resolving: Promise<void> | null = null;
  /** When the next look may start, by the spacing rule. */
  private nextLookAt = 0;
  /** When the look now set will start. */
  private resolveAt = 0;
  /** A hint came during a look: look again as soon as the spacing allows. */
  private hinted = false;
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
    this.resolveSoon(0);
  }

  /** Tasks finished: a blocked task may be free to go. */
  tasksFinished(): void {
    if (this.sawBlocked) this.resolveSoon(0);
  }

  /**
   * A claim found nothing: tasks announced as ready may have been blocked
   * ones from another process, which only a look at blocked tasks finds.
   */
  claimFoundNothing(): void {
    this.resolveSoon(0);
  }

  /** Tasks with dependencies were enqueued in this process: look at once. */
  dependentsEnqueued(): void {
    this.sawBlocked = true;
    this.resolveSoon(0);
  }

  /** Stops both duties; resolves once a round that is under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.scheduleTimer);
    clearTimeout(this.resolveTimer);
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

  /**
   * Sets the next look at blocked tasks `ms` from now, or as soon after as
   * the spacing allows; an earlier look already set stands.
   */
  private resolveSoon(ms: number): void {
    if (this.stopped) return;
    if (this.resolving) {
      if (ms === 0) this.hinted = true;
      return;
    }
    const at = Math.max(Date.now() + ms, this.nextLookAt);
    if (this.resolveTimer && this.resolveAt <= at) return;

    clearTimeout(this.resolveTimer);
    this.resolveAt = at;
    this.resolveTimer = setTimeout(() => this.resolve(), at - Date.now());
    this.resolveTimer.unref();
  }

  private resolve(): void {
    this.resolveTimer = undefined;
    const started = Date.now();
    this.resolving = this.resolveRound().finally(() => {
      const took = Date.now() - started;
      this.nextLookAt = Date.now() + took * SPACING;
      this.resolving = null;
      const again = this.hinted;
      this.hinted = false;
      this.resolveSoon(again ? 0 : RESOLVE_EVERY_MS);
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
