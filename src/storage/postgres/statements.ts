import type { Statement } from "./db.js";
import type { SqlNames } from "./names.js";
import { cancelSql, isFinishedSql } from "./sql/cancel.js";
import { claimSql } from "./sql/claim.js";
import { enqueueSql } from "./sql/enqueue.js";
import { eventsSinceSql, lastEventSeqSql, taskEventsSql } from "./sql/events.js";
import { expireLeasesSql } from "./sql/expire-leases.js";
import { expireTasksSql } from "./sql/expire-tasks.js";
import { heartbeatSql } from "./sql/heartbeat.js";
import { countTasksSql } from "./sql/list.js";
import { getOutcomesSql, getTaskSql } from "./sql/lookup.js";
import { purgeEventsSql, purgeResultsSql } from "./sql/purge.js";
import { releaseSql } from "./sql/release.js";
import { settleSql } from "./sql/settle.js";

/**
 * A store's statements, built once from its names. Each is prepared under a
 * name on first use on a connection, then only bound and executed.
 *
 * The pool's sessions run with `plan_cache_mode = force_custom_plan` (see
 * db.ts), so every execution is still planned for the tables as they are.
 */
export class Statements {
  readonly enqueue: Statement;
  readonly heartbeat: Statement;
  readonly settle: Statement;
  /** `settle` for a batch without retries. */
  readonly settleFinal: Statement;
  readonly release: Statement;
  readonly cancel: Statement;
  readonly isFinished: Statement;
  readonly getTask: Statement;
  readonly getOutcomes: Statement;
  readonly countTasks: Statement;
  readonly taskEvents: Statement;
  readonly eventsSince: Statement;
  readonly lastEventSeq: Statement;
  readonly expireLeases: Statement;
  readonly expireTasks: Statement;
  readonly purgeResults: Statement;
  readonly purgeEvents: Statement;
  private readonly claims = new Map<number, Statement>();

  constructor(private readonly names: SqlNames) {
    const make = (name: string, build: (n: SqlNames) => string): Statement => ({
      name: `omniq_${name}`,
      text: build(names),
    });

    this.enqueue = make("enqueue", enqueueSql);
    this.heartbeat = make("heartbeat", heartbeatSql);
    this.settle = make("settle", (n) => settleSql(n, true));
    this.settleFinal = make("settle_final", (n) => settleSql(n, false));
    this.release = make("release", releaseSql);
    this.cancel = make("cancel", cancelSql);
    this.isFinished = make("is_finished", isFinishedSql);
    this.getTask = make("get_task", getTaskSql);
    this.getOutcomes = make("get_outcomes", getOutcomesSql);
    this.countTasks = make("count_tasks", countTasksSql);
    this.taskEvents = make("task_events", taskEventsSql);
    this.eventsSince = make("events_since", eventsSinceSql);
    this.lastEventSeq = make("last_event_seq", lastEventSeqSql);
    this.expireLeases = make("expire_leases", expireLeasesSql);
    this.expireTasks = make("expire_tasks", expireTasksSql);
    this.purgeResults = make("purge_results", purgeResultsSql);
    this.purgeEvents = make("purge_events", purgeEventsSql);
  }

  /** The claim statement for this many queues (one branch each). */
  claim(queueCount: number): Statement {
    let statement = this.claims.get(queueCount);
    if (!statement) {
      statement = { name: `omniq_claim_${queueCount}`, text: claimSql(this.names, queueCount) };
      this.claims.set(queueCount, statement);
    }
    return statement;
  }
}
