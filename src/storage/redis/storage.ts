import type { Redis } from "ioredis";
import { DuplicateTaskError, OmniQError, StorageError } from "../../errors.js";
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
  Settlement,
  Storage,
  StorageSignal,
  TaskCounts,
  TaskFilter,
  TaskOutcome,
} from "../contract.js";
import { OutcomeBatcher } from "../shared/outcome-batcher.js";
import { runScript, type ScriptArg } from "./connection.js";
import type { Deadlines } from "./deadlines.js";
import { type Handovers, OFFER_MS } from "./handovers.js";
import { type ClaimedMeta, claimedRecord, enqueueValues, type StoredTask } from "./hash.js";
import type { Inbox } from "./inbox.js";
import { Inspector } from "./inspect.js";
import { maintain } from "./maintain.js";
import { USE_BATCH_SCRIPT } from "./scripts/enqueue-one.js";
import type { ScriptName } from "./scripts/index.js";
import { finalOutcome, outcomeEntry, type ScriptSignals, type SignalHub } from "./signals.js";
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
  handovers: Handovers;
  inbox: Inbox;
  deadlines: Deadlines;
}

/** Waits this long for a polite QUIT before dropping a connection on close. */
const QUIT_TIMEOUT_MS = 2_000;

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
  private closing: Promise<void> | null = null;
  private batches = 0;

  constructor(private readonly parts: RedisParts) {
    this.inspector = new Inspector(parts.commands, parts.target.prefix, () => this.base());
  }

  async enqueue(tasks: readonly NewTask[]): Promise<void> {
    if (tasks.length === 0) return;
    // The batch id tells a resent batch from a duplicate: unique per handle is enough.
    this.batches += 1;
    const args: ScriptArg[] = [
      ...this.base(),
      `${this.parts.origin}.${this.batches}`,
      tasks.length,
    ];
    for (const task of tasks) args.push(...enqueueValues(task));

    await this.guard("enqueue", async () => {
      // One task, the step before an idle worker starts, has a lighter script.
      // It always writes its events: a handle that records none takes the
      // batch script, whose prelude knows to leave them out.
      const light = tasks.length === 1 && this.parts.recordEvents;
      if (light && (await this.write("omniqEnqueueOne", args)) !== USE_BATCH_SCRIPT) return;
      await this.write("omniqEnqueue", args);
    });
  }

  /**
   * Tasks an enqueue already handed to this owner come first, without a
   * round trip; otherwise the claim script runs, and leaves an offer when it
   * finds nothing (see scripts/offers.ts). It also brings what waited in the
   * inbox: those handovers are older than what it claimed, and go first.
   */
  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    if (request.limit <= 0 || request.queues.length === 0 || request.workers.length === 0)
      return [];
    const { handovers } = this.parts;
    const handed = handovers.take(request.owner, request.limit);
    if (handed.length > 0) return handed;
    // An offer is worth making only once something waits on the inbox.
    this.parts.inbox.start();

    const now = this.parts.clock.now();
    const args: ScriptArg[] = [
      ...this.base(now),
      request.limit,
      request.owner,
      now + request.leaseMs,
      request.queues.length,
      ...request.queues,
      request.workers.length,
      ...request.workers,
      request.leaseMs,
      handovers.mayBeOffering(request.owner) ? 1 : 0,
      now + OFFER_MS,
    ];

    const [meta, ...stored] = (await this.guard("claim", () => this.write("omniqClaim", args))) as [
      string,
      ...string[],
    ];
    const lease = now + request.leaseMs;
    const claimed = (JSON.parse(meta) as ClaimedMeta[]).map((values, i) =>
      claimedRecord(
        [JSON.parse(stored[i] ?? "null") as StoredTask, ...values],
        request.owner,
        now,
        lease,
      ),
    );
    handovers.claimed(request.owner, claimed.length);
    // Handovers the claim found in the inbox are older: they go first.
    if (!handovers.has(request.owner)) return claimed;
    handovers.keep(request.owner, claimed);
    return handovers.take(request.owner, request.limit);
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
    const list = settlements.map((s) => {
      const entry = outcomeEntry(s);
      if (s.outcome === "completed") return [s.id, s.token, s.outcome, s.result, "", entry];
      const retryAt = s.outcome === "failed" && s.retryAt !== null ? s.retryAt : "";
      return [s.id, s.token, s.outcome, JSON.stringify(s.error), retryAt, entry];
    });
    const args: ScriptArg[] = [...this.base(), JSON.stringify(list)];

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
    const write = (name: ScriptName, args: ScriptArg[]) => this.write(name, args);
    const now = () => this.parts.clock.now();
    return this.guard("maintain", () => maintain(write, () => this.base(), options, now));
  }

  /**
   * Signals of this handle's changes are delivered as soon as the change is
   * made; those of other handles and processes come over Redis pub/sub.
   */
  subscribe(listener: (signal: StorageSignal) => void): () => void {
    return this.parts.hub.add(listener);
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    // Lookups asked for before close go out before the connection does.
    this.outcomes.flush();
    await this.retire();
    this.parts.deadlines.close();
    await Promise.all([quit(this.parts.subscriber), quit(this.parts.commands)]);
  }

  /**
   * Hands back tasks handed over but not taken, and withdraws this handle's
   * offers, so that nothing waits on a handle that is gone. Skipped while
   * the server is away: the leases run out and the offers lapse on their own.
   */
  private async retire(): Promise<void> {
    const { handovers, commands, inbox, deadlines } = this.parts;
    if (commands.status !== "ready") {
      await inbox.stop(() => Promise.reject(new Error("not connected")));
      return;
    }
    const timedOut = () => new StorageError("retiring the handle timed out");
    const run = (name: ScriptName, args: ScriptArg[]) =>
      deadlines.run(runScript(commands, name, args), timedOut);
    try {
      await inbox.stop((key, mark) => deadlines.run(commands.lpush(key, mark), timedOut));
      // Withdrawing also answers what reached the inbox since: kept with the rest.
      const [, ...signals] = (await run("omniqWithdraw", [
        ...this.base(),
        ...handovers.offeringOwners(),
      ])) as [unknown, ...ScriptSignals];
      for (const message of signals[3] ?? []) handovers.receive(message);

      const leases = handovers.takeAll();
      if (leases.length > 0) {
        const args: ScriptArg[] = this.base();
        for (const { id, token } of leases) args.push(id, token);
        await run("omniqRelease", args);
      }
    } catch {
      // Best effort: what is left behind returns when its lease runs out.
    }
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
      throw this.translate(operation, error);
    }
  }

  private translate(operation: string, error: unknown): Error {
    if (error instanceof OmniQError) return error;
    const message = error instanceof Error ? error.message : String(error);

    const duplicate = /^DUPLICATE (.*)$/s.exec(message);
    if (duplicate) return new DuplicateTaskError(duplicate[1] ?? "");
    return new StorageError(
      `Redis ${operation} on ${this.parts.target.display} failed: ${message}`,
      { cause: error },
    );
  }
}

/** The outcomes of the settlements that applied and ended their tasks, by id. */
function finishedOutcomes(
  settlements: readonly Settlement[],
  applied: readonly number[],
): Map<string, TaskOutcome> {
  const outcomes = new Map<string, TaskOutcome>();
  settlements.forEach((settlement, i) => {
    const outcome = applied[i] === 1 ? finalOutcome(settlement) : null;
    if (outcome) outcomes.set(settlement.id, outcome);
  });
  return outcomes;
}

/** Closes a client politely, or drops it when the server does not answer in time. */
async function quit(client: Redis): Promise<void> {
  if (client.status === "end") return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, QUIT_TIMEOUT_MS);
  });
  try {
    await Promise.race([client.quit().then(() => undefined), timeout]);
  } catch {
    // Already gone: disconnecting below is all that is left to do.
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
