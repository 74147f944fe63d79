import type { BackoffSpec } from "../task/record.js";
import type { WorkerType } from "../task/state.js";
import type { Duration } from "../util/duration.js";
import type { Logger, LogLevel, OmniQLogger } from "./logger.js";

/** How long to wait between attempts, as the application writes it. */
export type BackoffInput =
  | {
      type: "exponential";
      /** Wait before the second attempt; it doubles after each failure. @default "1s" */
      base?: Duration;
      /** Longest single wait. @default "1h" */
      max?: Duration;
      /** Spread each wait at random over [wait/2, wait]. @default true */
      jitter?: boolean;
    }
  | {
      type: "fixed";
      /** The same wait before every retry. */
      delay: Duration;
    };

/** Defaults for every task whose definition and enqueue call leave them out. */
export interface TaskDefaultsInput {
  /** @default "default" */
  queue?: string;
  /** Higher runs first within a queue. @default 0 */
  priority?: number;
  /** Longest one attempt may run; `null` for no limit. @default null */
  timeout?: Duration | null;
  /** Attempts after the first one fails. @default 0 */
  retries?: number;
  /** @default { type: "exponential", base: "1s", max: "1h", jitter: true } */
  backoff?: BackoffInput;
  /**
   * A task still waiting this long after enqueue expires unrun; `null` to wait forever. @default
   * null
   */
  ttl?: Duration | null;
  /** How long a finished task's result is kept. @default "1d" */
  resultTtl?: Duration;
}

/** The in-process worker's settings. */
export interface WorkerOptionsInput {
  /**
   * Tasks run at once by each worker type. Env `OMNIQ_CONCURRENCY`.
   * @default async 10, gevent 1,000, thread and process: the number of CPU cores
   */
  concurrency?: number;
  /** Queues to take tasks from. Env `OMNIQ_QUEUES` (comma list). @default ["default"] */
  queues?: string[];
  /** Modules that define tasks, loaded by thread and process workers. @default [] */
  tasks?: string[];
  /** Worker types to run. @default [defaultWorker] */
  types?: WorkerType[];
  /**
   * Async and gevent workers: run functions not declared `async` in a thread pool. @default false
   */
  syncInThreads?: boolean;
  /**
   * Threads and processes: how long a task has to stop after its signal fires before it is killed.
   * @default "1s"
   */
  abortGrace?: Duration;
  /** Gevent: report a task that blocks the event loop longer than this. @default "100ms" */
  blockWarning?: Duration;
  /**
   * How often each worker checks that it claims when it has room: see
   * `WorkerOptions.livenessCheck`. `0` turns it off. @default "10s"
   */
  livenessCheck?: Duration;
  /**
   * Fire due schedules and move on tasks whose dependencies completed (see
   * `WorkerOptions.coordinate`). @default true
   */
  coordinate?: boolean;
  /** Threads and processes: heap limit of each, in MB. @default Node's own */
  memoryLimitMb?: number;
  /** Threads and processes: replace each after this many tasks. @default never */
  recycleAfterTasks?: number;
  /**
   * Threads and processes: replace one that is above this size after a task, in MB. @default never
   */
  recycleAboveMb?: number;
}

/**
 * What an application may set; every field is optional. Sources are merged,
 * later ones winning: defaults, `configFile`, this object, `OMNIQ_*` variables.
 */
export interface OmniQConfigInput {
  /**
   * A YAML (.yaml, .yml) or JSON (.json) file with any of these fields but `logger`. Env
   * `OMNIQ_CONFIG`.
   */
  configFile?: string;
  /** The queue's backend URL. Env `OMNIQ_STORAGE`. @default "sqlite://./.omniq/omniq.db" */
  storage?: string;
  /** Backend for results. Env `OMNIQ_RESULTS`. @default storage */
  results?: string;
  /** Backend for lifecycle events. Env `OMNIQ_EVENTS`. @default storage */
  events?: string;
  /** Worker type for tasks that do not name one. Env `OMNIQ_DEFAULT_WORKER`. @default "async" */
  defaultWorker?: WorkerType;
  /** `false` for a producer that runs nothing, or the worker's settings. @default {} */
  worker?: false | WorkerOptionsInput;
  /** How long a claim lasts without a heartbeat. Env `OMNIQ_LEASE`. @default "30s" */
  lease?: Duration;
  /** How often a worker renews its leases; shorter than `lease`. @default lease / 3 */
  heartbeat?: Duration;
  /** How long a graceful stop waits for running tasks. Env `OMNIQ_STOP_TIMEOUT`. @default "10s" */
  stopTimeout?: Duration;
  /**
   * How often to look for tasks on backends that cannot notify. Env `OMNIQ_POLL_INTERVAL`. @default
   * "200ms"
   */
  pollInterval?: Duration;
  /** How long lifecycle events are kept. @default "7d" */
  eventTtl?: Duration;
  /** Whether lifecycle events are stored at all. Env `OMNIQ_RECORD_EVENTS`. @default true */
  recordEvents?: boolean;
  /** Lost leases after which a task fails for good with `WorkerLostError`. @default 3 */
  maxLeaseLosses?: number;
  /** Task defaults. */
  defaults?: TaskDefaultsInput;
  /** Where omniq logs; a pino logger fits. Only from this object. @default none */
  logger?: Logger;
  /**
   * What omniq logs. Env `OMNIQ_LOG_LEVEL`.
   * @default "debug" when `logger` is given (the logger's own level filters), else "silent"
   */
  logLevel?: LogLevel;
}

/** Task defaults, complete, in milliseconds. */
export interface TaskDefaults {
  queue: string;
  priority: number;
  timeoutMs: number | null;
  retries: number;
  backoff: BackoffSpec;
  ttlMs: number | null;
  resultTtlMs: number;
}

/** The in-process worker's settings, complete. */
export interface WorkerConfig {
  /** Undefined: each worker type takes its own default. */
  concurrency: number | undefined;
  queues: string[];
  tasks: string[];
  types: WorkerType[];
  syncInThreads: boolean;
  abortGraceMs: number | undefined;
  blockWarningMs: number | undefined;
  livenessCheckMs: number | undefined;
  coordinate: boolean;
  memoryLimitMb: number | undefined;
  recycleAfterTasks: number | undefined;
  recycleAboveMb: number | undefined;
}

/** The configuration after merging every source: complete, validated, durations in ms. */
export interface OmniQConfig {
  /** The file that was read, or `null`. */
  configFile: string | null;
  storage: string;
  results: string;
  events: string;
  defaultWorker: WorkerType;
  /** `false`: a producer only. */
  worker: false | WorkerConfig;
  leaseMs: number;
  heartbeatMs: number;
  stopTimeoutMs: number;
  pollIntervalMs: number;
  eventTtlMs: number;
  recordEvents: boolean;
  maxLeaseLosses: number;
  defaults: TaskDefaults;
  logLevel: LogLevel;
  /** Ready to use: filtered by `logLevel`, writing to the given logger, stderr or nowhere. */
  logger: OmniQLogger;
}
