import type { OmniQLogger } from "../../config/logger.js";
import { toErrorInfo } from "../../errors.js";
import { RETRY_DELAY } from "../attempt.js";
import {
  type DoneMessage,
  type FromRuntime,
  type RemoteError,
  rebuildError,
  type TaskSpec,
} from "../runtime/protocol.js";
import { TaskModuleError } from "../task-modules.js";
import { describeExit, TaskCrashedError } from "./crash.js";
import type { ExitInfo, Member, SpawnMember } from "./member.js";

/** What a pool is made of and how it treats its members. */
export interface PoolOptions {
  /** Threads or children kept running. */
  size: number;
  spawn: SpawnMember;
  /** Modules every member imports before its first task, as the `tasks` option gives them. */
  modules: string[];
  tsxApi: string | null;
  /** Time a member has to end its task after the task's signal fires; then it is killed. */
  abortGraceMs: number;
  recycleAfterTasks: number | null;
  recycleAboveMb: number | null;
  memoryLimitMb: number | null;
  log: OmniQLogger;
}

interface Job {
  number: number;
  spec: TaskSpec;
  signal: AbortSignal;
  started: () => void;
  resolve: (result: string) => void;
  reject: (error: unknown) => void;
  slot?: Slot;
}

interface Slot {
  member: Member;
  state: "starting" | "idle" | "busy" | "retiring";
  job?: Job;
  tasksRun: number;
  /** Task names this member has run: it has their modules loaded. */
  knows: Set<string>;
  /** Settles when the member is ready, or could not become so. */
  ready: Promise<void>;
  onReady: (error?: Error) => void;
  exited: Promise<void>;
}

/** Longest pause between attempts to start a member that keeps failing to start. */
const MAX_RESPAWN_DELAY_MS = 30_000;

/**
 * A fixed number of threads or child processes, each running one task at a
 * time. Tasks wait in order for a free member. A member that dies fails only
 * its own task and is replaced; one that does not stop within the grace
 * period after its task's signal fires is killed and replaced.
 */
export class Pool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private names: string[] = [];
  private jobs = 0;
  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private respawnDelayMs = 0;

  constructor(private readonly options: PoolOptions) {}

  /** Names of the tasks the members have loaded. */
  get taskNames(): string[] {
    return this.names;
  }

  /**
   * Starts every member and waits until each has loaded the task modules.
   * @throws {TaskModuleError} when a module fails to load in a member.
   */
  async start(): Promise<void> {
    const slots = Array.from({ length: this.options.size }, () => this.spawn());
    try {
      await Promise.all(slots.map((slot) => slot.ready));
    } catch (error) {
      await this.close(0);
      throw error;
    }
    this.started = true;
  }

  /**
   * Runs a task in the next free member; resolves to its encoded result.
   * `started` is called when a member takes it. When `signal` fires the
   * member is told, and killed if it has not finished within the grace period.
   */
  run(spec: TaskSpec, signal: AbortSignal, started: () => void): Promise<string> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.closed) return Promise.reject(new Error("the pool is closed"));

    return new Promise<string>((resolve, reject) => {
      this.jobs += 1;
      const job: Job = { number: this.jobs, spec, signal, started, resolve, reject };
      signal.addEventListener("abort", () => this.abort(job), { once: true });
      this.queue.push(job);
      this.dispatch();
    });
  }

  /**
   * Ends every member: idle ones at once, busy ones after `graceMs` (their
   * tasks' signals have fired by now). Tasks still waiting are refused.
   * Called again while closing, `close(0)` kills what is left at once.
   */
  close(graceMs: number): Promise<void> {
    if (this.closing) {
      if (graceMs === 0) for (const slot of this.slots) slot.member.kill();
      return this.closing;
    }
    this.closed = true;
    this.closing = this.shutDown(graceMs);
    return this.closing;
  }

  private async shutDown(graceMs: number): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new Error("the pool is closing"));

    const slots = [...this.slots];
    for (const slot of slots) if (slot.state !== "busy") this.retire(slot);
    const timer = setTimeout(() => {
      for (const slot of slots) slot.member.kill();
    }, graceMs);
    await Promise.all(slots.map((slot) => slot.exited));
    clearTimeout(timer);
  }

  private spawn(): Slot {
    let onReady!: (error?: Error) => void;
    let onExit!: () => void;
    const ready = new Promise<void>((resolve, reject) => {
      onReady = (error) => (error ? reject(error) : resolve());
    });
    ready.catch(() => {}); // A replacement's failure is logged, not thrown.
    const exited = new Promise<void>((resolve) => {
      onExit = resolve;
    });

    const slot = {
      state: "starting",
      tasksRun: 0,
      knows: new Set(),
      ready,
      onReady,
      exited,
    } as Slot;
    slot.member = this.options.spawn({
      message: (message) => this.onMessage(slot, message),
      exit: (info) => {
        onExit();
        this.onExit(slot, info);
      },
    });
    this.slots.add(slot);
    slot.member.send({ type: "init", modules: this.options.modules, tsxApi: this.options.tsxApi });
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.state !== "idle") continue;

      const job = this.queue.shift() as Job;
      slot.state = "busy";
      slot.job = job;
      job.slot = slot;
      // A task new to this member may wait on its module's import: it says when it starts.
      const reportStart = !slot.knows.has(job.spec.name);
      if (!reportStart) job.started();
      slot.member.send({ type: "run", job: job.number, task: job.spec, reportStart });
    }
  }

  private onMessage(slot: Slot, message: FromRuntime): void {
    switch (message.type) {
      case "ready":
        this.names = message.names;
        this.respawnDelayMs = 0;
        slot.state = "idle";
        slot.onReady();
        this.dispatch();
        break;
      case "load-failed":
        this.loadFailed(slot, new TaskModuleError(message.module, message.reason));
        break;
      case "started":
        if (slot.job?.number === message.job) slot.job.started();
        break;
      case "done":
        this.finished(slot, message);
        break;
    }
  }

  private loadFailed(slot: Slot, error: TaskModuleError): void {
    slot.onReady(error);
    this.retire(slot);
    // Before start, `start` reports it; later, the modules changed under a running pool.
    if (this.started && !this.closed) {
      this.options.log.error(
        { member: slot.member.label },
        `a replacement failed: ${error.message}`,
      );
      this.replace(true);
    }
  }

  private finished(slot: Slot, message: DoneMessage): void {
    const job = slot.job;
    slot.job = undefined;
    slot.tasksRun += 1;
    if (job) {
      slot.knows.add(job.spec.name);
      if (message.ok) job.resolve(message.result);
      else job.reject(remoteError(message.error));
    }

    if (this.closed || this.worn(slot, message.memoryMb)) {
      this.retire(slot);
      if (!this.closed) this.spawn();
    } else {
      slot.state = "idle";
    }
    this.dispatch();
  }

  private worn(slot: Slot, memoryMb: number): boolean {
    const { recycleAfterTasks, recycleAboveMb } = this.options;
    if (recycleAfterTasks !== null && slot.tasksRun >= recycleAfterTasks) return true;
    if (recycleAboveMb !== null && memoryMb > recycleAboveMb) {
      this.options.log.info(
        { member: slot.member.label, memoryMb: Math.round(memoryMb) },
        "recycling: above recycleAboveMb after its task",
      );
      return true;
    }
    return false;
  }

  private retire(slot: Slot): void {
    if (slot.state === "retiring") return;
    slot.state = "retiring";
    slot.member.retire();
  }

  private abort(job: Job): void {
    const waiting = this.queue.indexOf(job);
    if (waiting >= 0) {
      this.queue.splice(waiting, 1);
      job.reject(job.signal.reason);
      return;
    }
    const slot = job.slot;
    if (!slot || slot.job !== job) return;

    slot.member.send({ type: "abort", job: job.number, reason: toErrorInfo(job.signal.reason) });
    const timer = setTimeout(() => {
      if (slot.job !== job) return;
      this.options.log.warn(
        { task: job.spec.id, member: slot.member.label, abortGraceMs: this.options.abortGraceMs },
        "the task did not stop within abortGrace after its signal fired; killing its thread or process",
      );
      slot.member.kill();
    }, this.options.abortGraceMs);
    timer.unref();
  }

  private onExit(slot: Slot, info: ExitInfo): void {
    this.slots.delete(slot);
    const how = describeExit(slot.member.label, info, this.options.memoryLimitMb);
    slot.onReady(this.notReady(how));

    const job = slot.job;
    if (job) {
      slot.job = undefined;
      job.reject(new TaskCrashedError(`${how} while running task ${job.spec.id}`));
    }
    if (this.closed || slot.state === "retiring") return;

    this.options.log.warn({ member: slot.member.label }, `${how}; starting a replacement`);
    this.replace(slot.state === "starting");
  }

  /** Why a member that died before it was ready is of no use: most likely a tasks module. */
  private notReady(how: string): Error {
    const { modules } = this.options;
    if (modules.length === 0) return new Error(`${how} before it was ready`);
    return new TaskModuleError(modules.join(", "), `${how} while loading it`);
  }

  // A member that dies before it is ready will likely die again: wait longer each time.
  private replace(diedStarting: boolean): void {
    if (!diedStarting) {
      this.spawn();
      return;
    }
    this.respawnDelayMs = Math.min(Math.max(this.respawnDelayMs * 2, 100), MAX_RESPAWN_DELAY_MS);
    const timer = setTimeout(() => {
      if (!this.closed) this.spawn();
    }, this.respawnDelayMs);
    timer.unref();
  }
}

function remoteError(info: RemoteError): Error {
  const error = rebuildError(info);
  if (info.retryDelayMs !== undefined) {
    Object.assign(error, { [RETRY_DELAY]: info.retryDelayMs });
  }
  return error;
}
