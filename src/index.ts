// The public surface of omniq: every export is listed by name.
export { OmniQ } from "./omniq/omniq.js";
export type { Enqueueable, OpenOptions, TaskId, TaskInfo } from "./omniq/omniq.js";
export { withOptions } from "./omniq/build-task.js";

export { defineTask, isTaskDefinition } from "./task/define.js";
export type { AnyTaskDefinition, TaskCall, TaskDefinition, TaskDefinitionOptions } from "./task/define.js";
export type { BackoffOption, EnqueueOptions, TaskOptions } from "./task/options.js";
export { currentTask } from "./task/context.js";
export type { TaskContext } from "./task/context.js";
export type { BackoffSpec, NewTask, TaskErrorInfo, TaskRecord, ClaimedTask } from "./task/record.js";
export { TASK_STATES, WORKER_TYPES } from "./task/state.js";
export type { TaskState, WorkerType } from "./task/state.js";

export { AsyncWorker } from "./workers/async-worker.js";
export type { WorkerOptions } from "./workers/options.js";

export { openStorage, storageSchemes } from "./storage/open.js";
export type { OpenStorageOptions } from "./storage/open.js";
export { MemoryStorage } from "./storage/memory/index.js";
export { systemClock } from "./storage/contract.js";
export type {
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
} from "./storage/contract.js";
export { ManualClock } from "./util/clock.js";

export type { TaskEvent, TaskEventType } from "./events/types.js";
export { encodeValue, decodeValue } from "./codec/value.js";
export type { Duration } from "./util/duration.js";

export {
  ConfigError,
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
  UnknownTaskError,
  UnrunnableTaskError,
  WorkerLostError,
} from "./errors.js";
