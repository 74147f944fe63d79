import type { Redis } from "ioredis";
import { StorageError } from "../../errors.js";
import type { TaskEvent } from "../../events/types.js";
import type { ClaimedTask, NewTask, TaskRecord } from "../../task/record.js";
import type {
  CancelOutcome,
  ClaimRequest,
  Clock,
  HeartbeatReply,
  Lease,
  MaintenanceOptions,
  MaintenanceReport,
  PurgeFilter,
  QueueControl,
  RequeueOutcome,
  ScheduleEvent,
  Settlement,
  Storage,
  StorageSignal,
  StoredSchedule,
  TaskCounts,
  TaskFilter,
  TaskOutcome,
} from "../contract.js";
import { OutcomeBatcher } from "../shared/outcome-batcher.js";
import {
  asksForWork,
  type ClaimReply,
  claimArgs,
  claimedTasks,
  settlementsArgs,
} from "./claims.js";
import { runScript, type ScriptArg, translateError } from "./connection.js";
import type { ScriptContext } from "./context.js";
import { purge, requeue } from "./dead-letters.js";
import type { Deadlines } from "./deadlines.js";
import { enqueueArgs, enqueuedIds } from "./enqueue.js";
import type { RedisHandovers } from "./handovers.js";
import type { Inbox } from "./inbox.js";
import { Inspector } from "./inspect.js";
import { maintain } from "./maintain.js";
import { queueControls, setQueueControl } from "./queue-controls.js";
import { quit, retire } from "./retire.js";
import * as schedules from "./schedules.js";
import { USE_BATCH_SCRIPT } from "./scripts/enqueue-one.js";
import type { ScriptName } from "./scripts/index.js";
import { finishedOutcomes, type ScriptSignals, type SignalHub } from "./signals.js";
import type { RedisTarget } from "./url.js";

/** The parts a `RedisStorage` runs on, opened by `openRedisStorage`. */
export interface RedisParts {
  target: RedisTarget;
  commands: Redis;
  subscriber: Redis;
  clock: Clock;
  origin: string;
  /** False where the handle was opened with `recordEvents: false`. */
  recordEvents: boolean;
  hub: SignalHub;
  handovers: RedisHandovers;
  inbox: Inbox;
  deadlines: Deadlines;
}

/**
 * The Redis backend: every state change is one Lua script (see scripts/),
 * so each is atomic on the server, and each takes "now" from the clock.
 */
export class RedisStorage implements Storage {
  private readonly inspector: Inspector;
  /** `getOutcome` calls of one turn share one script call (see OutcomeBatcher). */
  private readonly outcomes = new OutcomeBatcher((ids) =>
    this.guard("getOutcome", () => this.inspector.getOutcomes(ids)),
  );
  /** What the operations kept in modules of their own run on. */
  private readonly context: ScriptContext;
  private closing: Promise<void> | null = null;
  private batches = 0;

  constructor(private readonly parts: RedisParts) {
    this.inspector = new Inspector(parts.commands, parts.target.prefix, () => this.base());
    this.context = {
      write: (name, args) => this.write(name, args),
      base: () => this.base(),
      client: parts.commands,
      prefix: parts.target.prefix,
    };
  }

  async enqueue(tasks: readonly NewTask[]): Promise<string[]> {
    if (tasks.length === 0) return [];
    // The batch id tells a resent batch from a duplicate: unique per handle is enough.
    this.batches += 1;
    const { args, plain } = enqueueArgs(
      [...this.base(), `${this.parts.origin}.${this.batches}`],
      tasks,
    );

    const dropped = await this.guard("enqueue", async () => {
      // One plain task, the step before an idle worker starts, has a lighter
      // script. It always writes its events: a handle that records none
      // takes the batch script, whose prelude knows to leave them out.
      const light = plain && tasks.length === 1 && this.parts.recordEvents;
      const answer = light ? await this.write("omniqEnqueueOne", args) : USE_BATCH_SCRIPT;
      return answer === USE_BATCH_SCRIPT ? this.write("omniqEnqueue", args) : answer;
    });
    return plain ? tasks.map((task) => task.id) : enqueuedIds(tasks, dropped as unknown[]);
  }

  /**
   * Tasks an enqueue already handed to this owner come first, without a
   * round trip; otherwise the claim script runs, and leaves an offer when it
   * finds nothing (see scripts/offers.ts). It also brings what waited in the
   * inbox: those handovers are older than what it claimed, and go first.
   */
  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    if (!asksForWork(request)) return [];
    const handed = this.parts.handovers.take(request.owner, request.limit);
    if (handed.length > 0) return handed;
    // An offer is worth making only once something waits on the inbox.
    this.parts.inbox.start();

    const now = this.parts.clock.now();
    const args = [...this.base(now), ...claimArgs(request, now, this.parts.handovers)];
    const reply = (await this.guard("claim", () => this.write("omniqClaim", args))) as ClaimReply;
    return claimedTasks(reply, request, now, this.parts.handovers);
  }

  async heartbeat(leases: readonly Lease[], leaseMs: number): Promise<HeartbeatReply> {
    if (leases.length === 0) return { lost: [], cancelRequested: [] };
    const now = this.parts.clock.now();
    const args: ScriptArg[] = [...this.base(now), now + leaseMs];
    for (const { id, token } of leases) args.push(id, token);

    const [lost, cancelRequested] = (await this.guard("heartbeat", () =>
      runScript(this.parts.commands, "omniqHeartbeat", args),
    )) as [string[], string[]];
    return { lost, cancelRequested };
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    if (settlements.length === 0) return [];
    const args: ScriptArg[] = [...this.base(), ...settlementsArgs(settlements)];

    const [applied, ...signals] = (await this.guard("settle", () =>
      runScript(this.parts.commands, "omniqSettle", args),
    )) as [number[], ...ScriptSignals];
    // This handle's listeners learn the outcomes from the settlements themselves.
    this.deliver(signals, finishedOutcomes(settlements, applied));
    return applied.map((one) => one === 1);
  }

  async release(leases: readonly Lease[]): Promise<void> {
    if (leases.length === 0) return;
    const args: ScriptArg[] = this.base();
    for (const { id, token } of leases) args.push(id, token);

    await this.guard("release", () => this.write("omniqRelease", args));
  }

  async cancel(id: string, reason: string): Promise<CancelOutcome> {
    const error = JSON.stringify({ name: "TaskCancelledError", message: reason });
    const args = [...this.base(), id, error];
    return (await this.guard("cancel", () => this.write("omniqCancel", args))) as CancelOutcome;
  }

  unblock(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.guard(
      "unblock",
      async () => (await this.write("omniqUnblock", [...this.base(), ...ids])) as string[],
    );
  }

  requeue(id: string): Promise<RequeueOutcome> {
    return this.guard("requeue", () => requeue(this.context, id));
  }

  purge(filter: PurgeFilter): Promise<number> {
    return this.guard("purge", () => purge(this.context, filter));
  }

  setQueueControl(queue: string, control: QueueControl | null): Promise<void> {
    return this.guard("setQueueControl", () => setQueueControl(this.context, queue, control));
  }

  queueControls(): Promise<Record<string, QueueControl>> {
    return this.guard("queueControls", () => queueControls(this.context));
  }

  putSchedule(
    id: string,
    data: string,
    expectedVersion: number | null,
    event?: ScheduleEvent,
  ): Promise<number | null> {
    return this.guard("putSchedule", () =>
      schedules.putSchedule(this.context, id, data, expectedVersion, event),
    );
  }

  getSchedule(id: string): Promise<StoredSchedule | null> {
    return this.guard("getSchedule", () => schedules.getSchedule(this.context, id));
  }

  listSchedules(): Promise<StoredSchedule[]> {
    return this.guard("listSchedules", () => schedules.listSchedules(this.context));
  }

  deleteSchedule(id: string, event?: ScheduleEvent): Promise<boolean> {
    return this.guard("deleteSchedule", () => schedules.deleteSchedule(this.context, id, event));
  }

  getTask(id: string): Promise<TaskRecord | null> {
    return this.guard("getTask", () => this.inspector.getTask(id));
  }

  getOutcome(id: string): Promise<TaskOutcome | null> {
    return this.outcomes.get(id);
  }

  listTasks(filter?: TaskFilter): Promise<TaskRecord[]> {
    return this.guard("listTasks", () => this.inspector.listTasks(filter));
  }

  countTasks(): Promise<TaskCounts> {
    return this.guard("countTasks", () => this.inspector.countTasks());
  }

  taskEvents(taskId: string): Promise<TaskEvent[]> {
    return this.guard("taskEvents", () => this.inspector.taskEvents(taskId));
  }

  eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    return this.guard("eventsSince", () => this.inspector.eventsSince(afterSeq, limit));
  }

  lastEventSeq(): Promise<number> {
    return this.guard("lastEventSeq", () => this.inspector.lastEventSeq());
  }

  maintain(options: MaintenanceOptions): Promise<MaintenanceReport> {
    const now = () => this.parts.clock.now();
    return this.guard("maintain", () =>
      maintain(this.context.write, () => this.base(), options, now),
    );
  }

  /**
   * Signals of this handle's changes are delivered as soon as the change is
   * made; those of other handles and processes come over Redis pub/sub.
   */
  subscribe(listener: (signal: StorageSignal) => void): () => void {
    return this.parts.hub.add(listener);
  }

  /** Every final state is published; a closed pub/sub connection may have missed some. */
  signalEpoch(): number {
    return this.parts.hub.epoch;
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    // Lookups asked for before close go out before the connection does.
    this.outcomes.flush();
    await retire(this.parts, this.base());
    this.parts.deadlines.close();
    await Promise.all([quit(this.parts.subscriber), quit(this.parts.commands)]);
  }

  /** The three arguments every script starts with: prefix, origin and now. */
  private base(now = this.parts.clock.now()): ScriptArg[] {
    return [this.parts.target.prefix, this.parts.origin, now];
  }

  /** Runs a writing script, delivers its signals and handovers here, and answers its result. */
  private async write(name: ScriptName, args: ScriptArg[]): Promise<unknown> {
    const [result, ...signals] = (await runScript(this.parts.commands, name, args)) as [
      unknown,
      ...ScriptSignals,
    ];
    this.deliver(signals);
    return result;
  }

  private deliver(signals: ScriptSignals, outcomes?: Map<string, TaskOutcome>): void {
    // Handovers first: the ready signals they bring should find their tasks kept.
    for (const message of signals[3] ?? []) this.parts.handovers.receive(message);
    this.parts.hub.deliver(signals, outcomes);
  }

  /** Runs one operation, turning what the client throws into omniq's errors. */
  private async guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (this.closing) {
      throw new StorageError(`Redis storage ${this.parts.target.display} is closed (${operation})`);
    }
    const timedOut = () =>
      new StorageError(
        `Redis ${operation} on ${this.parts.target.display} timed out: no reply within ` +
          `${this.parts.deadlines.timeoutMs} ms (its effect may or may not have happened)`,
      );
    try {
      return await this.parts.deadlines.run(run(), timedOut);
    } catch (error) {
      throw translateError(`Redis ${operation} on ${this.parts.target.display}`, error);
    }
  }
}
