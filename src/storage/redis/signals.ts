import type { Redis } from "ioredis";
import type { TaskErrorInfo } from "../../task/record.js";
import type { Settlement, StorageSignal, TaskOutcome } from "../contract.js";

type Listener = (signal: StorageSignal) => void;

/** What a writing script answers besides its result: the signals it published. */
export type ScriptSignals = [
  ready: string[],
  finished: string[],
  cancel: string[],
  handovers: string[],
];

/**
 * A final outcome is carried in the `finished` message only up to this many
 * characters of JSON, so that every subscriber is not sent large results:
 * the waiters of a larger one read it from the task instead.
 */
export const OUTCOME_IN_SIGNAL_MAX = 4_096;

/**
 * The `"id":{outcome}` entry a settlement's `finished` message carries when
 * it applies, or "" when it carries none (a retry, or a result too large).
 * Encoded here, where JSON is cheap, so the script only joins the entries.
 */
export function outcomeEntry(settlement: Settlement): string {
  const outcome = finalOutcome(settlement);
  if (outcome === null) return "";
  const json = JSON.stringify(outcome);
  return json.length > OUTCOME_IN_SIGNAL_MAX ? "" : `${JSON.stringify(settlement.id)}:${json}`;
}

/** The outcome a waiter gets once the settlement applies; null while the task will retry. */
export function finalOutcome(settlement: Settlement): TaskOutcome | null {
  if (settlement.outcome === "completed") return { state: "completed", result: settlement.result };
  if (settlement.outcome === "failed" && settlement.retryAt !== null) return null;
  const state = settlement.outcome === "failed" ? "failed" : "cancelled";
  return { state, error: { ...settlement.error } };
}

/** The outcomes of the settlements that applied and ended their tasks, by id. */
export function finishedOutcomes(
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

/**
 * Delivers signals to this handle's listeners. Changes made through this
 * handle are delivered at once from the script's answer; changes made
 * through other handles arrive over pub/sub on `${prefix}:signals`, where
 * this handle's own messages (tagged with its origin id) are skipped so that
 * nothing is heard twice.
 */
export class SignalHub {
  private readonly listeners = new Set<Listener>();
  /** Counts the times pub/sub messages may have been missed (see `Storage.signalEpoch`). */
  epoch = 0;
  /** How this handle's own messages start (see the scripts' `publish`). */
  private readonly ownHead: string;

  constructor(private readonly origin: string) {
    this.ownHead = `{"o":${JSON.stringify(origin)},`;
  }

  /** Adds a listener; the returned function removes it. */
  add(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Delivers what a script of this handle published; `outcomes` are those of
   * the finished tasks, where the caller knows them.
   */
  deliver([ready, finished, cancel]: ScriptSignals, outcomes?: Map<string, TaskOutcome>): void {
    if (this.listeners.size === 0) return;
    for (const queue of ready) this.emit({ type: "ready", queue });
    if (finished.length > 0) {
      this.emit(outcomes ? { type: "finished", ids: finished, outcomes } : finishedOnly(finished));
    }
    for (const id of cancel) this.emit({ type: "cancel", id });
  }

  /** Reads one pub/sub message; malformed messages are ignored. */
  receive(message: string): void {
    // A settle's message can be long: this handle's own is dropped unread.
    if (this.listeners.size === 0 || message.startsWith(this.ownHead)) return;
    let parsed: {
      o?: unknown;
      type?: unknown;
      queue?: unknown;
      ids?: unknown;
      id?: unknown;
      outcomes?: unknown;
    };
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (parsed.o === this.origin) return;

    if (parsed.type === "ready" && typeof parsed.queue === "string") {
      this.emit({ type: "ready", queue: parsed.queue });
    } else if (parsed.type === "finished" && Array.isArray(parsed.ids)) {
      const ids = parsed.ids.filter((id) => typeof id === "string");
      const outcomes = readOutcomes(parsed.outcomes, ids);
      this.emit(outcomes ? { type: "finished", ids, outcomes } : finishedOnly(ids));
    } else if (parsed.type === "cancel" && typeof parsed.id === "string") {
      this.emit({ type: "cancel", id: parsed.id });
    }
  }

  /** Delivers a signal this handle learned of by other means, such as a handover. */
  announce(signal: StorageSignal): void {
    this.emit(signal);
  }

  private emit(signal: StorageSignal): void {
    for (const listener of [...this.listeners]) {
      // One listener's failure must not keep the signal from the others.
      try {
        listener(signal);
      } catch {
        // Nothing to do: a listener that throws has only itself to blame.
      }
    }
  }
}

function finishedOnly(ids: readonly string[]): StorageSignal {
  return { type: "finished", ids };
}

const FINAL = new Set(["completed", "failed", "cancelled", "expired"]);

/**
 * The outcomes a message carries, keyed by id, for ids it names. Any entry
 * not shaped like a final outcome is left out: its waiters read the task.
 */
function readOutcomes(
  value: unknown,
  ids: readonly string[],
): Map<string, TaskOutcome> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const entries = value as Record<string, unknown>;
  const outcomes = new Map<string, TaskOutcome>();
  for (const id of ids) {
    const outcome = Object.hasOwn(entries, id) ? asOutcome(entries[id]) : null;
    if (outcome) outcomes.set(id, outcome);
  }
  return outcomes.size > 0 ? outcomes : undefined;
}

function asOutcome(value: unknown): TaskOutcome | null {
  if (typeof value !== "object" || value === null) return null;
  const { state, result, error } = value as { state?: unknown; result?: unknown; error?: unknown };
  if (typeof state !== "string" || !FINAL.has(state)) return null;

  const outcome: TaskOutcome = { state: state as TaskOutcome["state"] };
  if (typeof result === "string") outcome.result = result;
  else if (state === "completed") return null;
  if (error !== undefined) {
    const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
    if (typeof name !== "string" || typeof message !== "string") return null;
    outcome.error = error as TaskErrorInfo;
  }
  return outcome;
}

/**
 * Subscribes `subscriber` to the signal channel and feeds `hub`. The client
 * subscribes again after a reconnect, but what was published while it was
 * away is gone: every close starts a new epoch.
 */
export async function listen(subscriber: Redis, channel: string, hub: SignalHub): Promise<void> {
  subscriber.on("message", (from: string, message: string) => {
    if (from === channel) hub.receive(message);
  });
  subscriber.on("close", () => {
    hub.epoch += 1;
  });
  await subscriber.subscribe(channel);
}
