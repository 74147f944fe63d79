import type { ClaimedTask } from "../../task/record.js";
import { type Handovers, OFFER_MS } from "../shared/handovers.js";
import type { ClaimAnswer } from "./claimer.js";
import { type TaskRow, toRecord } from "./rows.js";

/**
 * How long a task handed over and found by a claim instead of its message
 * is remembered, so that the message, should it still come, is passed over.
 * A listening connection that stays silent longer than this has been
 * replaced long since (its pings fail within the query timeout).
 */
const RECOVERED_MS = 10 * 60_000;

/**
 * This handle's side of claims that wait (see sql/handover.ts), per owner:
 * whether an offer stands and until when, and which handed tasks it knows.
 *
 * An idle worker claims every poll; asking for a new offer only once the
 * standing one has less than half its time left spares the table a write
 * at most polls. An enqueue that serves an offer deletes it, and its
 * message tells this handle so.
 *
 * A handed task reaches its owner once, whichever way comes first: by its
 * message, or by a claim that finds it still marked (`rehanded`). The
 * ids heard by message go with the next claim, which unmarks them; a claim
 * that returns one heard meanwhile drops it; a message for one a claim
 * already returned is passed over.
 */
export class Offers {
  private readonly standing = new Map<string, number>();
  /** Owners whose last claim took tasks: their next claim leaves no offer. */
  private readonly busy = new Set<string>();
  /** Per owner, tasks heard of by message and not yet unmarked by a claim. */
  private readonly heardOf = new Map<string, Set<string>>();
  /** Tasks claims found before their message came, with when. */
  private readonly recovered = new Map<string, number>();

  constructor(
    /** This handle's id, which the messages for its owners carry. */
    readonly origin: string,
    private readonly handovers: Handovers,
  ) {}

  /** False while `owner`'s last claim took tasks: no offer stands, and none is wanted yet. */
  wanted(owner: string): boolean {
    return !this.busy.has(owner);
  }

  /** When an offer made by a claim of `owner`'s at `now` should end; 0 for none. */
  untilFor(owner: string, now: number): number {
    const until = this.standing.get(owner) ?? 0;
    return until - now > OFFER_MS / 2 ? 0 : now + OFFER_MS;
  }

  /** The ids of the tasks handed to `owner` and heard of, for its next claim to unmark. */
  heard(owner: string): string[] {
    return [...(this.heardOf.get(owner) ?? [])];
  }

  /**
   * Takes what a claim of `owner`'s, asked with `until` (see `untilFor`)
   * and the ids `heard`, answered, and gives the tasks to hand out.
   */
  claimed(
    owner: string,
    answer: ClaimAnswer,
    until: number,
    heard: readonly string[],
  ): ClaimedTask[] {
    if (answer.tasks.length > 0) {
      this.standing.delete(owner);
      this.busy.add(owner);
    } else {
      this.busy.delete(owner);
      if (until > 0) this.standing.set(owner, until);
    }

    const known = this.heardOf.get(owner);
    for (const id of heard) known?.delete(id);
    if (known?.size === 0) this.heardOf.delete(owner);
    if (answer.rehanded.length === 0) return answer.tasks;

    // Heard of while the claim was on its way: the message already gave it.
    const dropped = new Set(answer.rehanded.filter((id) => known?.has(id)));
    this.remember(answer.rehanded.filter((id) => !dropped.has(id)));
    return answer.tasks.filter((task) => !dropped.has(task.id));
  }

  /** Reads a handover message; one for another handle, malformed, or already claimed is passed over. */
  receive(message: string): void {
    const handed = parseHandover(message);
    if (!handed || handed.origin !== this.origin) return;
    const { task } = handed;
    if (this.recovered.delete(task.id)) return;

    const owner = task.leaseOwner as string;
    this.standing.delete(owner);
    const known = this.heardOf.get(owner) ?? new Set<string>();
    known.add(task.id);
    this.heardOf.set(owner, known);
    this.handovers.hand(owner, [task]);
  }

  /** Forgets every offer: the handle closes, and withdraws them. */
  clear(): void {
    this.standing.clear();
    this.busy.clear();
    this.heardOf.clear();
    this.recovered.clear();
  }

  private remember(ids: readonly string[]): void {
    const now = Date.now();
    for (const [id, since] of this.recovered) {
      if (now - since < RECOVERED_MS) break;
      this.recovered.delete(id);
    }
    for (const id of ids) this.recovered.set(id, now);
  }
}

function parseHandover(message: string): { origin: string; task: ClaimedTask } | null {
  try {
    const parsed = JSON.parse(message) as { o?: unknown; t?: Partial<TaskRow> };
    const row = parsed.t;
    if (typeof parsed.o !== "string" || typeof row !== "object" || row === null) return null;
    if (typeof row.id !== "string" || typeof row.lease_owner !== "string") return null;
    if (typeof row.token !== "number" || typeof row.lease_expires_at !== "number") return null;
    return { origin: parsed.o, task: toRecord(row as TaskRow) as ClaimedTask };
  } catch {
    return null;
  }
}
