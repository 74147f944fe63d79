import type { ClaimedTask } from "../../task/record.js";
import type { ClaimRequest } from "../contract.js";
import type { Db } from "./db.js";
import { ms, type TaskRow, toRecord } from "./rows.js";
import type { ClaimRow } from "./sql/claim.js";
import type { Statements } from "./statements.js";

/**
 * Claims for one handle, with queue controls honoured over every process.
 *
 * A claim first takes the plain statement (sql/claim.ts), which claims
 * nothing when one of its queues has controls and says so; the claim then
 * runs again as the controlled transaction (sql/claim-controlled.ts). So
 * a store without controls pays one probe of an empty table per claim, and
 * a handle never trusts what it remembers for correctness: the database
 * decides every time.
 *
 * What it does remember is which queues it last found controlled, to send
 * their claims straight to the controlled transaction instead of asking
 * twice; the transaction corrects that memory as it goes.
 */
export class Claimer {
  private readonly controlled = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly statements: Statements,
  ) {}

  /**
   * @param offer - the last parameters of the claim that leaves an offer
   *   (see `offerParams` in sql/claim.ts); null for the claim that does not.
   */
  async claim(request: ClaimRequest, now: number, offer: unknown[] | null): Promise<ClaimAnswer> {
    const queues = [...new Set(request.queues)];
    const values = [
      now,
      [...request.workers],
      request.limit,
      request.owner,
      now + ms(request.leaseMs),
      queues,
      ...queues,
    ];

    if (!queues.some((queue) => this.controlled.has(queue))) {
      const rows = await this.db.rows<ClaimRow>(
        "claim",
        offer
          ? this.statements.claimWithOffers(queues.length)
          : this.statements.claim(queues.length),
        offer ? [...values, ...offer] : values,
      );
      if (rows[0]?.controlled !== true) return claimed(rows);
    }
    return { tasks: await this.claimControlled(queues, values), rehanded: [] };
  }

  /** Remembers a control this handle wrote, so that its next claim need not find it out. */
  noteControl(queue: string, present: boolean): void {
    if (present) this.controlled.add(queue);
    else this.controlled.delete(queue);
  }

  private async claimControlled(queues: string[], values: unknown[]): Promise<ClaimedTask[]> {
    const rows = await this.db.transaction("claim", async (client) => {
      const locked = await client.query<{ queue: string }>({
        ...this.statements.lockControls,
        values: [queues],
      });
      const found = new Set(locked.rows.map((row) => row.queue));
      for (const queue of queues) this.noteControl(queue, found.has(queue));

      const result = await client.query<TaskRow>({
        ...this.statements.controlledClaim(queues.length),
        values,
      });
      return result.rows;
    });
    return rows.map((row) => toRecord(row) as ClaimedTask);
  }
}

/** What a claim took: its tasks, and the ids of those handed over earlier (see `claimSql`). */
export interface ClaimAnswer {
  tasks: ClaimedTask[];
  rehanded: string[];
}

/** The tasks of a plain claim's answer, which is one row of nulls when it took none. */
function claimed(rows: ClaimRow[]): ClaimAnswer {
  const answer: ClaimAnswer = { tasks: [], rehanded: [] };
  for (const row of rows) {
    if (row.id === null) continue;
    answer.tasks.push(toRecord(row) as ClaimedTask);
    if (row.rehanded) answer.rehanded.push(row.id);
  }
  return answer;
}
