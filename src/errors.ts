import type { TaskErrorInfo } from "./task/record.js";

/** The base of every error omniq throws, so callers can tell them apart from their own. */
export class OmniQError extends Error {
  override name = "OmniQError";
}

/** A configuration value is wrong: the message names the field, the value and what is allowed. */
export class ConfigError extends OmniQError {
  override name = "ConfigError";

  constructor(
    /** Dotted path of the field, such as `worker.concurrency`. */
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A value cannot be stored: the message and `path` say where inside the arguments or result. */
export class SerializationError extends OmniQError {
  override name = "SerializationError";

  constructor(
    /** Where the value sits, such as `args[0].cb`. */
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An argument to an omniq call is wrong (unknown task, bad option). */
export class InvalidArgumentError extends OmniQError {
  override name = "InvalidArgumentError";
}

/** The backend could not be reached or refused an operation; `cause` has the client's error. */
export class StorageError extends OmniQError {
  override name = "StorageError";
}

/** `enqueue`: a task with this id is already stored; nothing of the batch was stored. */
export class DuplicateTaskError extends OmniQError {
  override name = "DuplicateTaskError";

  constructor(readonly taskId: string) {
    super(`a task with id ${taskId} already exists; nothing of this batch was stored`);
  }
}

/** `getResult`: the task failed for good. `remote` is the error the task threw. */
export class TaskFailedError extends OmniQError {
  override name = "TaskFailedError";

  constructor(
    readonly taskId: string,
    readonly remote: TaskErrorInfo,
  ) {
    super(`task ${taskId} failed: ${remote.name}: ${remote.message}`);
  }
}

/** `getResult`: the task did not finish within the timeout. It may still finish later. */
export class ResultTimeoutError extends OmniQError {
  override name = "ResultTimeoutError";

  constructor(
    readonly taskId: string,
    readonly timeoutMs: number,
  ) {
    super(`task ${taskId} did not finish within ${timeoutMs} ms`);
  }
}

/** `getResult`: the task was cancelled before it finished. */
export class TaskCancelledError extends OmniQError {
  override name = "TaskCancelledError";

  constructor(
    readonly taskId: string,
    readonly reason: string,
  ) {
    super(`task ${taskId} was cancelled: ${reason}`);
  }
}

/** `getResult`: the task's time-to-live passed before any worker started it. */
export class TaskExpiredError extends OmniQError {
  override name = "TaskExpiredError";

  constructor(readonly taskId: string) {
    super(`task ${taskId} expired: its time-to-live passed before a worker started it`);
  }
}

/** No task has this id: it never existed, or its result time-to-live passed and it was deleted. */
export class UnknownTaskError extends OmniQError {
  override name = "UnknownTaskError";

  constructor(readonly taskId: string) {
    super(`no task with id ${taskId} (never enqueued, or deleted after its result time-to-live)`);
  }
}

/** No schedule has this id. */
export class UnknownScheduleError extends OmniQError {
  override name = "UnknownScheduleError";

  constructor(readonly scheduleId: string) {
    super(`no schedule with id ${scheduleId}`);
  }
}

/**
 * Thrown by task code to say that trying again cannot help: the task fails
 * for good at once, whatever retries are left.
 */
export class NonRetryableError extends Error {
  override name = "NonRetryableError";
}

/** An attempt ran past its timeout; the task's `AbortSignal` fired. */
export class TaskTimeoutError extends OmniQError {
  override name = "TaskTimeoutError";
}

/** The worker holding a task stopped heartbeating too many times in a row. */
export class WorkerLostError extends OmniQError {
  override name = "WorkerLostError";
}

/**
 * A worker claimed a task whose name it has no definition for, or whose payload it cannot decode.
 */
export class UnrunnableTaskError extends OmniQError {
  override name = "UnrunnableTaskError";
}

/** Turns anything thrown into the stored form of an error. */
export function toErrorInfo(thrown: unknown): TaskErrorInfo {
  if (thrown instanceof Error) {
    const info: TaskErrorInfo = { name: thrown.name, message: thrown.message };
    if (thrown.stack) info.stack = thrown.stack;
    return info;
  }
  return { name: "Error", message: String(thrown) };
}
