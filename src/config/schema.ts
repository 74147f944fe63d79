/**
 * The shape of configuration input, as zod schemas. Each field's
 * `.describe()` text says what is allowed; error messages quote it (see
 * issues.ts), so it is written to follow "use …".
 */
import { z } from "zod";
import { WORKER_TYPES, type WorkerType } from "../task/state.js";
import { type Duration, isDuration, toMs } from "../util/duration.js";
import { LOG_LEVELS, type Logger, type LogLevel } from "./logger.js";
import type { OmniQConfigInput } from "./types.js";

/** URL schemes a backend exists for. */
export const STORAGE_SCHEMES = [
  "memory",
  "file",
  "sqlite",
  "postgres",
  "postgresql",
  "redis",
  "rediss",
  "nats",
] as const;

const DURATION_FORM = 'milliseconds or a string such as "500ms", "30s", "5m", "2h", "1d"';

function duration(minMs: number) {
  const allowed =
    minMs > 0 ? `a duration above 0: ${DURATION_FORM}` : `a duration: ${DURATION_FORM}`;
  return z
    .custom<Duration>((value) => isDuration(value) && toMs(value, "duration") >= minMs)
    .describe(allowed);
}

function wholeNumber(min: number, max?: number) {
  const base = z.number().int().min(min);
  return max === undefined
    ? base.max(Number.MAX_SAFE_INTEGER).describe(`a whole number from ${min} up`)
    : base.max(max).describe(`a whole number from ${min} to ${max}`);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const listed = values.map((value) => JSON.stringify(value));
  const allowed = `${listed.slice(0, -1).join(", ")} or ${listed.at(-1)}`;
  return z.enum(values).describe(allowed);
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

const storageUrl = z
  .string()
  .refine((url) => {
    const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
    return scheme !== undefined && (STORAGE_SCHEMES as readonly string[]).includes(scheme);
  })
  .describe(`a URL starting with ${STORAGE_SCHEMES.map((s) => `${s}://`).join(", ")}`);

const name = z.string().min(1).describe("a non-empty string");

const workerType = oneOf(WORKER_TYPES as [WorkerType, ...WorkerType[]]);

const workerOptions = z.strictObject({
  concurrency: wholeNumber(1, 100_000).optional(),
  queues: z.array(name).min(1).describe("a non-empty list of queue names").optional(),
  tasks: z.array(name).describe("a list of module paths").optional(),
  types: z
    .array(workerType)
    .min(1)
    .refine((types) => new Set(types).size === types.length)
    .describe(`a non-empty list without repeats of ${workerType.description}`)
    .optional(),
  syncInThreads: z.boolean().describe("true or false").optional(),
  abortGrace: duration(0).optional(),
  blockWarning: duration(1).optional(),
  livenessCheck: duration(0).optional(),
  coordinate: z.boolean().describe("true or false").optional(),
  memoryLimitMb: wholeNumber(16, 1_000_000).optional(),
  recycleAfterTasks: wholeNumber(1).optional(),
  recycleAboveMb: wholeNumber(1, 1_000_000).optional(),
});

const backoff = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("exponential").describe('"exponential" or "fixed"'),
    base: duration(0).optional(),
    max: duration(0).optional(),
    jitter: z.boolean().describe("true or false").optional(),
  }),
  z.strictObject({
    type: z.literal("fixed").describe('"exponential" or "fixed"'),
    delay: duration(0),
  }),
]);

const taskDefaults = z.strictObject({
  queue: name.optional(),
  priority: z.number().int().describe("a whole number").optional(),
  timeout: duration(1).nullable().optional(),
  retries: wholeNumber(0).optional(),
  backoff: backoff
    .describe('{ type: "exponential", base?, max?, jitter? } or { type: "fixed", delay }')
    .optional(),
  ttl: duration(1).nullable().optional(),
  resultTtl: duration(0).optional(),
});

const logger = z
  .custom<Logger>((value) => {
    if (typeof value !== "object" || value === null) return false;
    const methods = value as Record<string, unknown>;
    return ["debug", "info", "warn", "error"].every((m) => typeof methods[m] === "function");
  })
  .describe("an object with debug, info, warn and error methods, such as a pino logger");

/**
 * Every field of `OmniQConfigInput`, all optional, unknown keys refused.
 * `satisfies` keeps its output in step with the public input type.
 */
export const inputSchema = z
  .strictObject({
    configFile: name.optional(),
    storage: storageUrl.optional(),
    results: storageUrl.optional(),
    events: storageUrl.optional(),
    defaultWorker: workerType.optional(),
    worker: z
      .union([z.literal(false), workerOptions])
      .describe("false for a producer only, or an object of worker options")
      .optional(),
    lease: duration(1).optional(),
    heartbeat: duration(1).optional(),
    stopTimeout: duration(0).optional(),
    pollInterval: duration(1).optional(),
    eventTtl: duration(1).optional(),
    recordEvents: z.boolean().describe("true or false").optional(),
    maxLeaseLosses: wholeNumber(1).optional(),
    defaults: taskDefaults.optional(),
    logger: logger.optional(),
    logLevel: oneOf(LOG_LEVELS as [LogLevel, ...LogLevel[]]).optional(),
  })
  .describe("an object of options") satisfies z.ZodType<OmniQConfigInput>;

/** What a config file may hold: the same, less what only code can give. */
export const fileSchema = inputSchema.omit({ logger: true, configFile: true });

/** Fields a config file may not set, and why; for a clearer message than "unknown". */
export const NOT_IN_FILE: Readonly<Record<string, string>> = {
  logger: "a logger is an object in code; pass it in the options object",
  configFile: "a config file cannot name another one",
};
