import { CANCEL } from "./cancel.js";
import { CLAIM } from "./claim.js";
import { ENQUEUE } from "./enqueue.js";
import { ENQUEUE_ONE } from "./enqueue-one.js";
import { EVENTS_SINCE } from "./events-since.js";
import { EXPIRE_LEASES } from "./expire-leases.js";
import { EXPIRE_WAITING } from "./expire-waiting.js";
import { HEARTBEAT } from "./heartbeat.js";
import { LIST_TASKS } from "./list-tasks.js";
import { OUTCOMES } from "./outcomes.js";
import { PURGE_EVENTS } from "./purge-events.js";
import { PURGE_FINISHED } from "./purge-finished.js";
import { PURGE_TASKS } from "./purge-tasks.js";
import { RELEASE } from "./release.js";
import { REQUEUE } from "./requeue.js";
import { DELETE_SCHEDULE, PUT_SCHEDULE } from "./schedules.js";
import { SET_CONTROL } from "./set-control.js";
import { SETTLE } from "./settle.js";
import { TASK_EVENTS } from "./task-events.js";
import { UNBLOCK } from "./unblock.js";
import { WITHDRAW } from "./withdraw.js";

/**
 * Every Lua script of the backend by command name. Each is defined on the
 * client with `defineCommand`, which runs it with EVALSHA and falls back to
 * EVAL when the server does not know it yet (a new connection, a restarted
 * server).
 */
export const SCRIPTS = {
  omniqEnqueue: ENQUEUE,
  omniqEnqueueOne: ENQUEUE_ONE,
  omniqClaim: CLAIM,
  omniqHeartbeat: HEARTBEAT,
  omniqSettle: SETTLE,
  omniqRelease: RELEASE,
  omniqCancel: CANCEL,
  omniqExpireLeases: EXPIRE_LEASES,
  omniqExpireWaiting: EXPIRE_WAITING,
  omniqPurgeTasks: PURGE_TASKS,
  omniqPurgeEvents: PURGE_EVENTS,
  omniqListTasks: LIST_TASKS,
  omniqTaskEvents: TASK_EVENTS,
  omniqEventsSince: EVENTS_SINCE,
  omniqOutcomes: OUTCOMES,
  omniqWithdraw: WITHDRAW,
  omniqUnblock: UNBLOCK,
  omniqRequeue: REQUEUE,
  omniqPurgeFinished: PURGE_FINISHED,
  omniqSetControl: SET_CONTROL,
  omniqPutSchedule: PUT_SCHEDULE,
  omniqDeleteSchedule: DELETE_SCHEDULE,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
