/**
 * The messages between a pool and the threads or child processes it runs
 * tasks in, and how an error crosses. Both sides import this module.
 */
import type { TaskErrorInfo } from "../../task/record.js";

/** What a thread or child needs to run one task. */
export interface TaskSpec {
  id: string;
  name: string;
  queue: string;
  /** The attempt's number, from 1. */
  attempt: number;
  /** Failed attempts so far, this one included if it fails: what a backoff function is given. */
  failures: number;
  /** The encoded argument list; decoded where the task runs. */
  payload: string;
  /** The module that defines the task, imported on first use. */
  module: string | null;
}

/** Sent once, first: what to load before the first task. */
export interface InitMessage {
  type: "init";
  /** Modules from the worker's `tasks` option, as import specifiers. */
  modules: string[];
  /** See `ImportOptions.tsxApi`. */
  tsxApi: string | null;
}

export interface RunMessage {
  type: "run";
  /** The pool's number for this run; answers carry it back. */
  job: number;
  task: TaskSpec;
  /**
   * Answer "started" when the function begins. Asked the first time a thread
   * or child meets a task, whose module it may have to import first: the
   * task's timeout must not count the import.
   */
  reportStart: boolean;
}

/** The task's signal fires, with this reason. */
export interface AbortMessage {
  type: "abort";
  job: number;
  reason: TaskErrorInfo;
}

export type ToRuntime = InitMessage | RunMessage | AbortMessage;

/** The modules loaded; the thread or child is ready for tasks. */
export interface ReadyMessage {
  type: "ready";
  /** Names of the tasks defined there. */
  names: string[];
}

/** The task's function begins (see `RunMessage.reportStart`). */
export interface StartedMessage {
  type: "started";
  job: number;
}

/** A module of the `tasks` option failed to load: the thread or child is of no use. */
export interface LoadFailedMessage {
  type: "load-failed";
  /** The module as the `tasks` option gave it. */
  module: string;
  reason: string;
}

/** An error a task threw, as it crosses. */
export interface RemoteError extends TaskErrorInfo {
  /** The delay the task definition's backoff function chose, when it has one. */
  retryDelayMs?: number;
}

export type DoneMessage = {
  type: "done";
  job: number;
  /** Memory in MB after the task: a thread's V8 heap in use, a child's resident set. */
  memoryMb: number;
} & ({ ok: true; result: string } | { ok: false; error: RemoteError });

/**
 * A child process is about to die of an uncaught error; its parent keeps it for the task's error.
 */
export interface FatalMessage {
  type: "fatal";
  error: TaskErrorInfo;
}

export type FromRuntime =
  | ReadyMessage
  | LoadFailedMessage
  | StartedMessage
  | DoneMessage
  | FatalMessage;

/** An error that crossed between a pool and its thread or child, with its name back on it. */
export function rebuildError(info: TaskErrorInfo): Error {
  const error = new Error(info.message);
  error.name = info.name;
  if (info.stack) error.stack = info.stack;
  return error;
}
