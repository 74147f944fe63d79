/**
 * `resolveConfig`: every source merged, validated and completed with
 * defaults, once, where options enter; everything downstream takes the
 * complete `OmniQConfig`.
 */
import { ConfigError } from "../errors.js";
import type { BackoffSpec } from "../task/record.js";
import { type Duration, toMs } from "../util/duration.js";
import { readEnv } from "./env.js";
import { type ConfigFile, readConfigFile, readConfigFileSync } from "./file.js";
import { type SourceOf, showValue } from "./issues.js";
import {
  envLayer,
  fileLayer,
  type Layer,
  mergedSourceOf,
  mergeLayers,
  objectLayer,
} from "./layers.js";
import { createLogger } from "./logger.js";
import type {
  BackoffInput,
  OmniQConfig,
  OmniQConfigInput,
  TaskDefaults,
  TaskDefaultsInput,
  WorkerConfig,
} from "./types.js";

/** The backend used when no source names one: SQLite in a file under the working directory. */
export const DEFAULT_STORAGE = "sqlite://./.omniq/omniq.db";

const DEFAULTS = {
  lease: "30s",
  stopTimeout: "10s",
  pollInterval: "200ms",
  eventTtl: "7d",
  maxLeaseLosses: 3,
  queue: "default",
  backoffBase: "1s",
  backoffMax: "1h",
  resultTtl: "1d",
} as const;

/**
 * Builds the complete configuration from, later ones winning: defaults, the
 * config file (`configFile` or `OMNIQ_CONFIG`), `input`, then `OMNIQ_*`
 * variables in `env`.
 *
 * @param input - options given in code.
 * @param env - where variables are read from. @default process.env
 * @throws {ConfigError} naming the field, the value, its source and what is allowed.
 */
export async function resolveConfig(
  input: OmniQConfigInput = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<OmniQConfig> {
  const { object, fromEnv, file } = firstLayers(input, env);
  const layers = file
    ? [fileLayer(await readConfigFile(file.path, file.where)), object, fromEnv]
    : [object, fromEnv];
  return complete(layers, file?.path ?? null);
}

/** The same as `resolveConfig`, reading the config file with blocking I/O. */
export function resolveConfigSync(
  input: OmniQConfigInput = {},
  env: NodeJS.ProcessEnv = process.env,
): OmniQConfig {
  const { object, fromEnv, file } = firstLayers(input, env);
  const loaded: ConfigFile | undefined = file && readConfigFileSync(file.path, file.where);
  const layers = loaded ? [fileLayer(loaded), object, fromEnv] : [object, fromEnv];
  return complete(layers, file?.path ?? null);
}

// The object and the environment are checked before the file is read, as
// either may name the file (the variable winning, like every variable).
function firstLayers(input: OmniQConfigInput, env: NodeJS.ProcessEnv) {
  const object = objectLayer(input);
  const fromEnv = envLayer(readEnv(env));
  const layer = fromEnv.data.configFile !== undefined ? fromEnv : object;
  const path = layer.data.configFile;
  const file = path === undefined ? undefined : { path, where: layer.sourceOf(["configFile"]) };
  return { object, fromEnv, file };
}

function complete(layers: readonly Layer[], configFile: string | null): OmniQConfig {
  const merged = mergeLayers(layers);
  const sourceOf = mergedSourceOf(layers);

  const storage = merged.storage ?? DEFAULT_STORAGE;
  const defaultWorker = merged.defaultWorker ?? "async";
  const leaseMs = ms(merged.lease ?? DEFAULTS.lease);
  const heartbeatMs = merged.heartbeat === undefined ? leaseMs / 3 : ms(merged.heartbeat);
  if (heartbeatMs >= leaseMs) {
    const rule = `a duration shorter than lease (${leaseMs} ms)`;
    throw crossFieldError(["heartbeat"], merged.heartbeat, sourceOf, rule);
  }

  const logLevel = merged.logLevel ?? (merged.logger ? "debug" : "silent");
  return {
    configFile,
    storage,
    results: merged.results ?? storage,
    events: merged.events ?? storage,
    defaultWorker,
    worker: merged.worker === false ? false : completeWorker(merged.worker ?? {}, defaultWorker),
    leaseMs,
    heartbeatMs,
    stopTimeoutMs: ms(merged.stopTimeout ?? DEFAULTS.stopTimeout),
    pollIntervalMs: ms(merged.pollInterval ?? DEFAULTS.pollInterval),
    eventTtlMs: ms(merged.eventTtl ?? DEFAULTS.eventTtl),
    recordEvents: merged.recordEvents ?? true,
    maxLeaseLosses: merged.maxLeaseLosses ?? DEFAULTS.maxLeaseLosses,
    defaults: completeDefaults(merged.defaults ?? {}, sourceOf),
    logLevel,
    logger: createLogger({ logger: merged.logger, logLevel }),
  };
}

function completeWorker(
  worker: Exclude<OmniQConfigInput["worker"], false | undefined>,
  defaultWorker: WorkerConfig["types"][number],
): WorkerConfig {
  const optionalMs = (value: Duration | undefined, field: string) =>
    value === undefined ? undefined : toMs(value, field);
  return {
    concurrency: worker.concurrency,
    queues: worker.queues ?? [DEFAULTS.queue],
    tasks: worker.tasks ?? [],
    types: worker.types ?? [defaultWorker],
    syncInThreads: worker.syncInThreads ?? false,
    abortGraceMs: optionalMs(worker.abortGrace, "worker.abortGrace"),
    blockWarningMs: optionalMs(worker.blockWarning, "worker.blockWarning"),
    livenessCheckMs: optionalMs(worker.livenessCheck, "worker.livenessCheck"),
    coordinate: worker.coordinate ?? true,
    memoryLimitMb: worker.memoryLimitMb,
    recycleAfterTasks: worker.recycleAfterTasks,
    recycleAboveMb: worker.recycleAboveMb,
  };
}

function completeDefaults(defaults: TaskDefaultsInput, sourceOf: SourceOf): TaskDefaults {
  return {
    queue: defaults.queue ?? DEFAULTS.queue,
    priority: defaults.priority ?? 0,
    timeoutMs: defaults.timeout == null ? null : ms(defaults.timeout),
    retries: defaults.retries ?? 0,
    backoff: completeBackoff(defaults.backoff, sourceOf),
    ttlMs: defaults.ttl == null ? null : ms(defaults.ttl),
    resultTtlMs: ms(defaults.resultTtl ?? DEFAULTS.resultTtl),
  };
}

function completeBackoff(backoff: BackoffInput | undefined, sourceOf: SourceOf): BackoffSpec {
  if (backoff?.type === "fixed") return { type: "fixed", delayMs: ms(backoff.delay) };

  const baseMs = ms(backoff?.base ?? DEFAULTS.backoffBase);
  const maxMs = ms(backoff?.max ?? DEFAULTS.backoffMax);
  // Blame the field that was given: a base above the default max, or a max below the base.
  if (maxMs < baseMs && backoff?.max === undefined) {
    const rule = `a duration no longer than defaults.backoff.max (${maxMs} ms)`;
    throw crossFieldError(["defaults", "backoff", "base"], backoff?.base, sourceOf, rule);
  }
  if (maxMs < baseMs) {
    const rule = `a duration no shorter than defaults.backoff.base (${baseMs} ms)`;
    throw crossFieldError(["defaults", "backoff", "max"], backoff?.max, sourceOf, rule);
  }
  return { type: "exponential", baseMs, maxMs, jitter: backoff?.jitter ?? true };
}

// Each layer was validated already, so a duration here always reads.
function ms(value: Duration): number {
  return toMs(value, "duration");
}

function crossFieldError(
  path: readonly string[],
  value: unknown,
  sourceOf: SourceOf,
  allowed: string,
): ConfigError {
  const field = path.join(".");
  return new ConfigError(
    field,
    `${field}: ${showValue(value)} (from ${sourceOf(path)}) is not allowed; use ${allowed}`,
  );
}
