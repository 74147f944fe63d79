import type { Statement } from "./db.js";
import type { EnqueueStatements } from "./enqueue.js";
import type { SqlNames } from "./names.js";
import { cancelSql, isFinishedSql } from "./sql/cancel.js";
import { claimSql } from "./sql/claim.js";
import { controlledClaimSql, lockControlsSql } from "./sql/claim-controlled.js";
import { deleteControlSql, listControlsSql, putControlSql } from "./sql/controls.js";
import { enqueueSql } from "./sql/enqueue.js";
import { enqueueKeyedSql, heldKeysSql } from "./sql/enqueue-keyed.js";
import { eventsSinceSql, lastEventSeqSql, taskEventsSql } from "./sql/events.js";
import { expireLeasesSql } from "./sql/expire-leases.js";
import { expireTasksSql } from "./sql/expire-tasks.js";
import { handoverEnqueueSql, withdrawOffersSql } from "./sql/handover.js";
import { heartbeatSql } from "./sql/heartbeat.js";
import { countTasksSql } from "./sql/list.js";
import { getOutcomesSql, getTaskSql } from "./sql/lookup.js";
import { purgeEventsSql, purgeResultsSql, purgeTasksSql } from "./sql/purge.js";
import { releaseSql } from "./sql/release.js";
import { requeueSql } from "./sql/requeue.js";
import {
  createScheduleSql,
  deleteScheduleSql,
  getScheduleSql,
  listSchedulesSql,
  updateScheduleSql,
} from "./sql/schedules.js";
import { settleSql } from "./sql/settle.js";
import { unblockSql } from "./sql/unblock.js";

/**
 * A store's statements, built once from its names. Each is prepared under a
 * name on first use on a connection, then only bound and executed.
 *
 * The pool's sessions run with `plan_cache_mode = force_custom_plan` (see
 * db.ts), so every execution is still planned for the tables as they are.
 */
export class Statements implements EnqueueStatements {
  readonly enqueue: Statement;
  /** `enqueue` for a batch with idempotency keys or dependencies. */
  readonly enqueueKeyed: Statement;
  readonly heldKeys: Statement;
  /** The enqueue statements unnamed, for the application's own connection. */
  readonly enqueueUnnamed: EnqueueStatements;
  /** The enqueue statements for one task, which may hand it to a waiting claim (sql/handover.ts). */
  readonly enqueueOne: EnqueueStatements;
  readonly withdrawOffers: Statement;
  readonly heartbeat: Statement;
  readonly settle: Statement;
  /** `settle` for a batch without retries. */
  readonly settleFinal: Statement;
  readonly release: Statement;
  readonly cancel: Statement;
  readonly isFinished: Statement;
  readonly unblock: Statement;
  readonly requeue: Statement;
  readonly purgeTasks: Statement;
  readonly lockControls: Statement;
  readonly putControl: Statement;
  readonly deleteControl: Statement;
  readonly listControls: Statement;
  readonly createSchedule: Statement;
  readonly updateSchedule: Statement;
  readonly deleteSchedule: Statement;
  readonly getSchedule: Statement;
  readonly listSchedules: Statement;
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
  private readonly offeringClaims = new Map<number, Statement>();
  private readonly controlledClaims = new Map<number, Statement>();

  constructor(private readonly names: SqlNames) {
    const make = (name: string, build: (n: SqlNames) => string): Statement => ({
      name: `omniq_${name}`,
      text: build(names),
    });

    this.enqueue = make("enqueue", enqueueSql);
    this.enqueueKeyed = make("enqueue_keyed", enqueueKeyedSql);
    this.heldKeys = make("held_keys", heldKeysSql);
    this.enqueueUnnamed = {
      enqueue: { name: "", text: this.enqueue.text },
      enqueueKeyed: { name: "", text: this.enqueueKeyed.text },
      heldKeys: { name: "", text: this.heldKeys.text },
    };
    this.enqueueOne = {
      enqueue: make("enqueue_one", handoverEnqueueSql),
      enqueueKeyed: this.enqueueKeyed,
      heldKeys: this.heldKeys,
    };
    this.withdrawOffers = make("withdraw_offers", withdrawOffersSql);
    this.heartbeat = make("heartbeat", heartbeatSql);
    this.settle = make("settle", (n) => settleSql(n, true));
    this.settleFinal = make("settle_final", (n) => settleSql(n, false));
    this.release = make("release", releaseSql);
    this.cancel = make("cancel", cancelSql);
    this.isFinished = make("is_finished", isFinishedSql);
    this.unblock = make("unblock", unblockSql);
    this.requeue = make("requeue", requeueSql);
    this.purgeTasks = make("purge_tasks", purgeTasksSql);
    this.lockControls = make("lock_controls", lockControlsSql);
    this.putControl = make("put_control", putControlSql);
    this.deleteControl = make("delete_control", deleteControlSql);
    this.listControls = make("list_controls", listControlsSql);
    this.createSchedule = make("create_schedule", createScheduleSql);
    this.updateSchedule = make("update_schedule", updateScheduleSql);
    this.deleteSchedule = make("delete_schedule", deleteScheduleSql);
    this.getSchedule = make("get_schedule", getScheduleSql);
    this.listSchedules = make("list_schedules", listSchedulesSql);
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
    return cached(this.claims, queueCount, () => ({
      name: `omniq_claim_${queueCount}`,
      text: claimSql(this.names, queueCount),
    }));
  }

  /** The claim statement that also leaves or withdraws an offer (see sql/claim.ts). */
  claimWithOffers(queueCount: number): Statement {
    return cached(this.offeringClaims, queueCount, () => ({
      name: `omniq_claim_offering_${queueCount}`,
      text: claimSql(this.names, queueCount, true),
    }));
  }

  /** The claim within queue controls for this many queues; see sql/claim-controlled.ts. */
  controlledClaim(queueCount: number): Statement {
    return cached(this.controlledClaims, queueCount, () => ({
      name: `omniq_controlled_claim_${queueCount}`,
      text: controlledClaimSql(this.names, queueCount),
    }));
  }
}

function cached(statements: Map<number, Statement>, key: number, make: () => Statement): Statement {
  let statement = statements.get(key);
  if (!statement) {
    statement = make();
    statements.set(key, statement);
  }
  return statement;
}
