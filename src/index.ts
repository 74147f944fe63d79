// The public surface of omniq: every export is listed by name.

export { decodeValue, encodeValue } from "./codec/value.js";
export type { EnvVariable } from "./config/env.js";
export { ENV_VARIABLES } from "./config/env.js";
export type { Logger, LogLevel } from "./config/logger.js";
export { resolveConfig } from "./config/resolve.js";
export type { OmniQConfig, OmniQConfigInput } from "./config/types.js";
export {
  ConfigError,
  DuplicateTaskError,
  InvalidArgumentError,
  NonRetryableError,
  OmniQError,
  ResultTimeoutError,
  SerializationError,
  StorageError,
  TaskCancelledError,
  TaskExpiredError,
  TaskFailedError,
  TaskTimeoutError,
  UnknownScheduleError,
  UnknownTaskError,
  UnrunnableTaskError,
  WorkerLostError,
} from "./errors.js";
export type { TaskEvent, TaskEventType } from "./events/types.js";
export { withOptions } from "./omniq/build-task.js";
export type { ChainStep, GroupIds } from "./omniq/flows.js";
export { OmniQ } from "./omniq/omniq.js";
export type { PurgeOptions, QueueLimits } from "./omniq/queues.js";
export type { ScheduleInfo, ScheduleSpec } from "./omniq/schedules.js";
export type { Enqueueable, OmniQHealth, OpenOptions, TaskId, TaskInfo } from "./omniq/types.js";
export type { MissedPolicy } from "./schedule/record.js";
export type { Trigger } from "./schedule/trigger.js";
export type {
  CancelOutcome,
  ClaimRequest,
  Clock,
  HeartbeatReply,
  Lease,
  MaintenanceOptions,
  MaintenanceReport,
  PurgeFilter,
  QueueControl,
  RateLimit,
  RequeueOutcome,
  ScheduleEvent,
  Settlement,
  Storage,
  StorageSignal,
  StoredSchedule,
  TaskCounts,
  TaskFilter,
  TaskOutcome,
} from "./storage/contract.js";
export { systemClock } from "./storage/contract.js";
export { MemoryStorage } from "./storage/memory/index.js";
export type { OpenStorageOptions } from "./storage/open.js";
export { openStorage, storageSchemes } from "./storage/open.js";
export type { TaskContext } from "./task/context.js";
export { currentTask } from "./task/context.js";
export type {
  AnyTaskDefinition,
  TaskCall,
  TaskDefinition,
  TaskDefinitionOptions,
} from "./task/define.js";
export { defineTask, isTaskDefinition } from "./task/define.js";
export type { BackoffOption, EnqueueOptions, TaskOptions } from "./task/options.js";
export type {
  BackoffSpec,
  ClaimedTask,
  Dependencies,
  NewTask,
  TaskErrorInfo,
  TaskRecord,
} from "./task/record.js";
export type { TaskState, WorkerType } from "./task/state.js";
export { TASK_STATES, WORKER_TYPES } from "./task/state.js";
export { ManualClock } from "./util/clock.js";
export type { Duration } from "./util/duration.js";
export { AsyncWorker } from "./workers/async-worker.js";
export { GeventWorker } from "./workers/gevent-worker.js";
export type { WorkerHealth, WorkerStatus } from "./workers/liveness.js";
export type { WorkerOptions } from "./workers/options.js";
export { TaskCrashedError } from "./workers/pool/crash.js";
export { ProcessWorker } from "./workers/process-worker.js";
export { TaskModuleError } from "./workers/task-modules.js";
export { ThreadWorker } from "./workers/thread-worker.js";
export type { Worker } from "./workers/worker.js";
