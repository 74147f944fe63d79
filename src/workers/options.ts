import { availableParallelism } from "node:os";
import { createLogger, type Logger, type LogLevel, type OmniQLogger } from "../config/logger.js";
import type { OmniQConfig, WorkerConfig } from "../config/types.js";
import { InvalidArgumentError } from "../errors.js";
import type { Clock, Storage } from "../storage/contract.js";
import { systemClock } from "../storage/contract.js";
import type { WorkerType } from "../task/state.js";
import { type Duration, toMs } from "../util/duration.js";

/** Options every worker type takes, standalone or through `OmniQ`. */
export interface WorkerOptions {
  /** The queue's backend: a storage URL, or an open `Storage`. */
  storage: string | Storage;
  /** Queues to read, highest priority first. @default ["default"] */
  queues?: string[];
  /**
   * Tasks run at once. For thread and process workers this is the number of
   * threads or child processes.
   * @default async 10, gevent 1000, thread and process: the number of CPU cores
   */
  concurrency?: number;
  /**
   * Modules that define tasks, imported before the worker starts (in every
   * thread or child process for those types). Tasks not defined there are
   * loaded from the module recorded with each task. @default []
   */
  tasks?: string[];
  /** How long a claim lasts without a heartbeat. @default "30s" */
  lease?: Duration;
  /** How often leases are renewed. @default a third of the lease */
  heartbeat?: Duration;
  /** How often to look for work when the backend sends no wake-ups. @default "200ms" */
  pollInterval?: Duration;
  /** How long `stop()` waits for running tasks before handing them back. @default "10s" */
  stopTimeout?: Duration;
  /** Lease losses after which a task fails with `WorkerLostError`. @default 3 */
  maxLeaseLosses?: number;
  /** Events older than this are deleted by housekeeping. @default "7d" */
  eventTtl?: Duration;
  /** Where log lines go; a pino logger fits. @default none: silent */
  logger?: Logger;
  /** What is logged. @default "info" with a logger, else "silent" */
  logLevel?: LogLevel;
  /** The time source; tests pass a manual clock. @default the system clock */
  clock?: Clock;
  /**
   * Thread and process workers: how long a thread or child process has to
   * end its task once the task's signal fires (timeout, cancel, stop) before
   * it is terminated and replaced. @default "1s"
   */
  abortGrace?: Duration;
  /**
   * Thread and process workers: the V8 heap limit of each thread
   * (`resourceLimits.maxOldGenerationSizeMb`) or child process
   * (`--max-old-space-size`), in MB. A task that goes past it fails; the
   * thread or child is replaced. @default V8's own limit
   */
  memoryLimitMb?: number;
  /**
   * Thread and process workers: replace a thread or child after it has run this many tasks.
   * @default never
   */
  recycleAfterTasks?: number;
  /**
   * Thread and process workers: replace a thread or child after a task that
   * leaves it above this size, in MB: a thread's V8 heap in use, a child's
   * resident set size. @default never
   */
  recycleAboveMb?: number;
  /**
   * Async and gevent workers: run task functions not declared `async` in a
   * pool of threads (one per CPU core), so that they do not block the event
   * loop. The task must be defined in a module (see `defineTask`). @default false
   */
  syncInThreads?: boolean;
  /**
   * Gevent workers: warn (naming the task) when a task keeps the event loop
   * busy for longer than this at a stretch. @default "100ms"
   */
  blockWarning?: Duration;
  /**
   * How often the worker checks that it claims when it should. A worker with
   * room that has not claimed for this long claims at once; tasks that round
   * finds which no wake-up announced are logged as a warning and make it
   * subscribe to wake-ups again, and a claim that runs this long is reported
   * (see `health()`). With a `pollInterval` longer than this, an idle worker
   * looks for tasks this often. `0` turns the check off. @default "10s"
   */
  livenessCheck?: Duration;
  /**
   * Fire due schedules and move on tasks whose dependencies have completed.
   * Every worker does it by default, and any number may at once; turn it off
   * for workers that should only run tasks. @default true
   */
  coordinate?: boolean;
}

/** Settings only some worker types read; `completeSettings` fills what is missing. */
export interface TypeSettings {
  abortGraceMs: number;
  memoryLimitMb: number | null;
  recycleAfterTasks: number | null;
  recycleAboveMb: number | null;
  syncInThreads: boolean;
  blockWarningMs: number;
  /** How often the liveness check looks, in ms; 0 for never. */
  livenessCheckMs: number;
  /** Fire schedules and resolve dependencies (see `WorkerOptions.coordinate`). */
  coordinate: boolean;
  /** Most tasks taken in one claim. */
  claimBatch: number;
  /** Tasks a pool worker holds beyond its threads or children, ready to start at once. */
  prefetch: number;
}

/** Worker options with every duration in ms; what `OmniQ` hands the worker factory. */
export interface WorkerSettings extends Partial<TypeSettings> {
  queues: string[];
  /** @default the worker type's own default (see `WorkerOptions.concurrency`) */
  concurrency?: number;
  tasks: string[];
  leaseMs: number;
  heartbeatMs: number;
  pollIntervalMs: number;
  stopTimeoutMs: number;
  maxLeaseLosses: number;
  eventTtlMs: number;
  logger: OmniQLogger;
  clock: Clock;
}

/** Every setting, for the worker to read. */
export type CompleteSettings = WorkerSettings & TypeSettings & { concurrency: number };

/** The concurrency a worker type has when none is given. */
export function defaultConcurrency(type: WorkerType): number {
  if (type === "gevent") return 1_000;
  if (type === "thread" || type === "process") return availableParallelism();
  return 10;
}

/**
 * Turns options into settings, durations into ms, checking each and naming
 * the one that is wrong. Defaults of a worker type are filled in later, by
 * `completeSettings`.
 */
export function resolveWorkerSettings(options: Omit<WorkerOptions, "storage">): WorkerSettings {
  const leaseMs = toMs(options.lease ?? "30s", "worker lease");
  const settings: WorkerSettings = {
    queues: options.queues ?? ["default"],
    concurrency: options.concurrency,
    tasks: options.tasks ?? [],
    leaseMs,
    heartbeatMs: toMs(
      options.heartbeat ?? Math.max(Math.floor(leaseMs / 3), 1),
      "worker heartbeat",
    ),
    pollIntervalMs: toMs(options.pollInterval ?? "200ms", "worker pollInterval"),
    stopTimeoutMs: toMs(options.stopTimeout ?? "10s", "worker stopTimeout"),
    maxLeaseLosses: options.maxLeaseLosses ?? 3,
    eventTtlMs: toMs(options.eventTtl ?? "7d", "worker eventTtl"),
    logger: createLogger({
      logger: options.logger,
      logLevel: options.logLevel ?? (options.logger ? "info" : "silent"),
    }),
    clock: options.clock ?? systemClock,
    memoryLimitMb: options.memoryLimitMb,
    recycleAfterTasks: options.recycleAfterTasks,
    recycleAboveMb: options.recycleAboveMb,
    syncInThreads: options.syncInThreads,
    coordinate: options.coordinate,
  };
  if (options.abortGrace !== undefined) {
    settings.abortGraceMs = toMs(options.abortGrace, "worker abortGrace");
  }
  if (options.blockWarning !== undefined) {
    settings.blockWarningMs = toMs(options.blockWarning, "worker blockWarning");
  }
  if (options.livenessCheck !== undefined) {
    settings.livenessCheckMs = toMs(options.livenessCheck, "worker livenessCheck");
  }

  if (settings.leaseMs < 100) {
    throw new InvalidArgumentError(
      `worker lease: ${settings.leaseMs} ms is too short; use 100 ms or more`,
    );
  }
  return settings;
}

/**
 * Fills in what a worker type reads but the caller left out, and checks the
 * numbers. Called once, by the worker's constructor.
 */
export function completeSettings(type: WorkerType, settings: WorkerSettings): CompleteSettings {
  const concurrency = settings.concurrency ?? defaultConcurrency(type);
  const complete: CompleteSettings = {
    ...settings,
    concurrency,
    abortGraceMs: settings.abortGraceMs ?? 1_000,
    memoryLimitMb: settings.memoryLimitMb ?? null,
    recycleAfterTasks: settings.recycleAfterTasks ?? null,
    recycleAboveMb: settings.recycleAboveMb ?? null,
    syncInThreads: settings.syncInThreads ?? false,
    blockWarningMs: settings.blockWarningMs ?? 100,
    livenessCheckMs: settings.livenessCheckMs ?? 10_000,
    coordinate: settings.coordinate ?? true,
    // One event loop running thousands of tasks wants them in large batches.
    claimBatch: settings.claimBatch ?? (type === "gevent" ? 1_000 : 100),
    // One waiting task per thread or child hides the claim's round trip.
    prefetch: settings.prefetch ?? (type === "thread" || type === "process" ? concurrency : 0),
  };
  checkSettings(complete);
  return complete;
}

function checkSettings(settings: CompleteSettings): void {
  checkWholeNumber("worker concurrency", settings.concurrency, 1, 100_000);
  checkWholeNumber("worker maxLeaseLosses", settings.maxLeaseLosses, 1, 1_000);
  checkWholeNumber("worker claimBatch", settings.claimBatch, 1, 10_000);
  checkWholeNumber("worker prefetch", settings.prefetch, 0, 100_000);
  if (settings.livenessCheckMs !== 0 && settings.livenessCheckMs < 50) {
    throw new InvalidArgumentError(
      `worker livenessCheck: ${settings.livenessCheckMs} ms is too short; use 0 (off) or 50 ms or more`,
    );
  }
  if (settings.memoryLimitMb !== null) {
    checkWholeNumber("worker memoryLimitMb", settings.memoryLimitMb, 16, 1_048_576);
  }
  if (settings.recycleAfterTasks !== null) {
    checkWholeNumber(
      "worker recycleAfterTasks",
      settings.recycleAfterTasks,
      1,
      Number.MAX_SAFE_INTEGER,
    );
  }
  if (settings.recycleAboveMb !== null) {
    checkWholeNumber("worker recycleAboveMb", settings.recycleAboveMb, 1, 1_048_576);
  }
  if (settings.queues.length === 0 || settings.queues.some((q) => typeof q !== "string" || !q)) {
    throw new InvalidArgumentError(
      `worker queues: ${JSON.stringify(settings.queues)} is not allowed; give one or more queue names`,
    );
  }
}

function checkWholeNumber(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${field}: ${value} is not allowed; use a whole number from ${min} to ${max}`,
    );
  }
}

/** The settings a resolved configuration gives its workers. */
export function workerSettingsFromConfig(
  config: OmniQConfig,
  worker: WorkerConfig,
  clock: Clock = systemClock,
): WorkerSettings {
  return {
    queues: worker.queues,
    concurrency: worker.concurrency,
    tasks: worker.tasks,
    leaseMs: config.leaseMs,
    heartbeatMs: config.heartbeatMs,
    pollIntervalMs: config.pollIntervalMs,
    stopTimeoutMs: config.stopTimeoutMs,
    maxLeaseLosses: config.maxLeaseLosses,
    eventTtlMs: config.eventTtlMs,
    logger: config.logger,
    clock,
    abortGraceMs: worker.abortGraceMs,
    memoryLimitMb: worker.memoryLimitMb,
    recycleAfterTasks: worker.recycleAfterTasks,
    recycleAboveMb: worker.recycleAboveMb,
    syncInThreads: worker.syncInThreads,
    blockWarningMs: worker.blockWarningMs,
    livenessCheckMs: worker.livenessCheckMs,
    coordinate: worker.coordinate,
  };
}

/**
 * The storage and settings from a worker class's constructor arguments:
 * options when it stands alone, or what `OmniQ` shares with it.
 */
export function fromArguments(
  optionsOrStorage: WorkerOptions | Storage | string,
  settings?: WorkerSettings,
): { source: string | Storage; settings: WorkerSettings } {
  if (settings) return { source: optionsOrStorage as string | Storage, settings };
  const { storage, ...options } = optionsOrStorage as WorkerOptions;
  return { source: storage, settings: resolveWorkerSettings(options) };
}
