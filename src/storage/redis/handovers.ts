import type { ClaimedTask } from "../../task/record.js";
import type { Lease } from "../contract.js";
import { Handovers } from "../shared/handovers.js";
import { type ClaimedEntry, claimedRecord } from "./hash.js";
import type { SignalHub } from "./signals.js";

export { HOLD_MS, OFFER_MS } from "../shared/handovers.js";

/** Values per task in a claimed entry (see `ClaimedEntry`). */
const ENTRY_WIDTH = 7;

/**
 * The shared keeping of handed-over tasks (see shared/handovers.ts), fed
 * with the messages the Redis scripts write (see scripts/offers.ts).
 */
export class RedisHandovers extends Handovers {
  constructor(hub: SignalHub, giveBack: (leases: Lease[]) => Promise<void>) {
    super((queue) => hub.announce({ type: "ready", queue }), giveBack);
  }

  /** Reads one handover message; a malformed one is dropped (its leases run out). */
  receive(message: string): void {
    const handed = parseHandover(message);
    if (handed) this.hand(handed.owner, handed.tasks);
  }
}

/**
 * A handover as the scripts write it (see offers.ts `sendHandover`), or null when it is not one.
 */
function parseHandover(message: string): { owner: string; tasks: ClaimedTask[] } | null {
  try {
    const parsed = JSON.parse(message) as {
      owner?: unknown;
      lease?: unknown;
      at?: unknown;
      tasks?: unknown;
    };
    const { owner, lease, at, tasks } = parsed;
    if (typeof owner !== "string" || typeof lease !== "number" || typeof at !== "number")
      return null;
    if (!Array.isArray(tasks) || tasks.length === 0) return null;

    const claimed: ClaimedTask[] = [];
    for (const entry of tasks as unknown[]) {
      if (!isClaimedEntry(entry)) return null;
      claimed.push(claimedRecord(entry, owner, at, lease));
    }
    return { owner, tasks: claimed };
  } catch {
    return null;
  }
}

/** The shape of one claimed entry, checked enough that a record can be built from it. */
export function isClaimedEntry(entry: unknown): entry is ClaimedEntry {
  if (!Array.isArray(entry) || entry.length !== ENTRY_WIDTH) return false;
  const stored: unknown = entry[0];
  return (
    Array.isArray(stored) &&
    typeof stored[0] === "string" &&
    typeof entry[1] === "number" &&
    typeof entry[2] === "number" &&
    typeof entry[3] === "number" &&
    typeof entry[4] === "number" &&
    typeof entry[5] === "number"
  );
}
