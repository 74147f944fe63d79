import { type LogLevel, type Logger, type OmniQLogger, createLogger } from "../config/logger.js";
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
  /** Tasks run at once. @default 10 */
  concurrency?: number;
  /** Modules that define tasks, imported before the worker starts. @default [] */
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
}

/** Worker options with every default filled in and every duration in ms. */
export interface WorkerSettings {
  queues: string[];
  concurrency: number;
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

/** Fills in defaults and checks each option, naming the one that is wrong. */
export function resolveWorkerSettings(options: Omit<WorkerOptions, "storage">): WorkerSettings {
  const leaseMs = toMs(options.lease ?? "30s", "worker lease");
  const settings: WorkerSettings = {
    queues: options.queues ?? ["default"],
    concurrency: options.concurrency ?? 10,
    tasks: options.tasks ?? [],
    leaseMs,
    heartbeatMs: toMs(options.heartbeat ?? Math.max(Math.floor(leaseMs / 3), 1), "worker heartbeat"),
    pollIntervalMs: toMs(options.pollInterval ?? "200ms", "worker pollInterval"),
    stopTimeoutMs: toMs(options.stopTimeout ?? "10s", "worker stopTimeout"),
    maxLeaseLosses: options.maxLeaseLosses ?? 3,
    eventTtlMs: toMs(options.eventTtl ?? "7d", "worker eventTtl"),
    logger: createLogger({
      logger: options.logger,
      logLevel: options.logLevel ?? (options.logger ? "info" : "silent"),
    }),
    clock: options.clock ?? systemClock,
  };

  checkWholeNumber("worker concurrency", settings.concurrency, 1, 100_000);
  checkWholeNumber("worker maxLeaseLosses", settings.maxLeaseLosses, 1, 1_000);
  if (settings.queues.length === 0 || settings.queues.some((q) => typeof q !== "string" || !q)) {
    throw new InvalidArgumentError(
      `worker queues: ${JSON.stringify(settings.queues)} is not allowed; give one or more queue names`,
    );
  }
  if (settings.leaseMs < 100) {
    throw new InvalidArgumentError(`worker lease: ${settings.leaseMs} ms is too short; use 100 ms or more`);
  }
  return settings;
}

function checkWholeNumber(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${field}: ${value} is not allowed; use a whole number from ${min} to ${max}`,
    );
  }
}

/** The worker types a worker of each type claims tasks for. */
export function claimedTypes(type: WorkerType): WorkerType[] {
  return [type];
}
