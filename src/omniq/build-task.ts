import { encodeValue } from "../codec/value.js";
import type { TaskDefaults } from "../config/types.js";
import { InvalidArgumentError } from "../errors.js";
import { isTaskDefinition, type TaskCall, type TaskDefinition } from "../task/define.js";
import { newTaskId } from "../task/id.js";
import { localName } from "../task/local.js";
import type { BackoffOption, EnqueueOptions } from "../task/options.js";
import type { BackoffSpec, Dependencies, NewTask } from "../task/record.js";
import { WORKER_TYPES, type WorkerType } from "../task/state.js";
import { toMs } from "../util/duration.js";

/** What a new task needs from the configuration. */
export interface BuildContext {
  defaults: TaskDefaults;
  defaultWorker: WorkerType;
  now: number;
}

/** Worker types that run in the enqueuing process, where a plain function can be found. */
const IN_PROCESS: readonly WorkerType[] = ["async", "gevent"];

/**
 * Turns one call (a task or plain function, its arguments, per-call options)
 * into the record storage keeps. Options come from the call, then the task
 * definition, then the config's defaults.
 */
export function buildTask(call: TaskCall, context: BuildContext): NewTask {
  const identity = identify(call.task);
  const options: Omit<EnqueueOptions, "backoff"> & { backoff?: BackoffOption } = {
    ...identity.options,
    ...identity.enqueueOptions,
    ...call.options,
  };
  const where = `enqueue(${identity.label})`;
  const worker = pickWorker(options.worker ?? context.defaultWorker, identity, where);
  const runAt = pickRunAt(options, context.now, where);
  const ttlMs = pickOptionalMs(options.ttl, context.defaults.ttlMs, `${where} option ttl`);

  return {
    id: options.id ?? newTaskId(context.now),
    name: identity.name,
    queue: pickQueue(options.queue ?? context.defaults.queue, where),
    priority: pickInteger(
      options.priority ?? context.defaults.priority,
      `${where} option priority`,
    ),
    payload: encodeValue(call.args, "args"),
    runAt,
    createdAt: context.now,
    maxAttempts: pickRetries(options.retries ?? context.defaults.retries, where) + 1,
    timeoutMs: pickOptionalMs(
      options.timeout,
      context.defaults.timeoutMs,
      `${where} option timeout`,
    ),
    expiresAt: ttlMs === null ? null : runAt + ttlMs,
    resultTtlMs:
      options.resultTtl === undefined
        ? context.defaults.resultTtlMs
        : toMs(options.resultTtl, `${where} option resultTtl`),
    backoff: pickBackoff(options.backoff, context.defaults.backoff, where),
    worker,
    module: identity.module,
    idempotencyKey: pickKey(options.idempotencyKey, where),
    dependencies: pickDependencies(options, where),
  };
}

function pickKey(key: unknown, where: string): string | null {
  if (key === undefined) return null;
  if (typeof key !== "string" || key.length === 0 || key.length > 500) {
    throw new InvalidArgumentError(
      `${where} option idempotencyKey: ${JSON.stringify(key)} is not allowed; use a string of 1 to 500 characters`,
    );
  }
  return key;
}

const PASS_MODES = ["none", "value", "list"];

function pickDependencies(
  options: Pick<EnqueueOptions, "dependsOn" | "passResults">,
  where: string,
): Dependencies | null {
  const { dependsOn, passResults = "none" } = options;
  if (!PASS_MODES.includes(passResults)) {
    throw new InvalidArgumentError(
      `${where} option passResults: ${JSON.stringify(passResults)} is not allowed; use "none", "value" or "list"`,
    );
  }
  if (dependsOn === undefined || dependsOn.length === 0) {
    if (passResults !== "none") {
      throw new InvalidArgumentError(
        `${where} option passResults: "${passResults}" needs dependsOn with at least one task id`,
      );
    }
    return null;
  }

  const wrong =
    !Array.isArray(dependsOn) || dependsOn.some((id) => typeof id !== "string" || id === "");
  if (wrong || dependsOn.length > 1_000) {
    throw new InvalidArgumentError(
      `${where} option dependsOn: ${JSON.stringify(dependsOn)} is not allowed; use a list of 1 to 1000 task ids`,
    );
  }
  return { on: [...new Set(dependsOn)], pass: passResults };
}

interface Identity {
  name: string;
  label: string;
  module: string | null;
  isPlainFunction: boolean;
  options: TaskDefinition["options"];
  enqueueOptions: EnqueueOptions | undefined;
}

function identify(task: unknown): Identity {
  if (isTaskDefinition(task)) {
    const enqueueOptions = (task as { enqueueOptions?: EnqueueOptions }).enqueueOptions;
    return {
      name: task.name,
      label: task.name,
      module: task.module,
      isPlainFunction: false,
      options: task.options,
      enqueueOptions,
    };
  }
  if (typeof task === "function") {
    const original = (originals.get(task) ?? task) as (...args: never[]) => unknown;
    const name = localName(original);
    return {
      name,
      label: original.name || "anonymous function",
      module: null,
      isPlainFunction: true,
      options: {},
      enqueueOptions: (task as { enqueueOptions?: EnqueueOptions }).enqueueOptions,
    };
  }
  throw new InvalidArgumentError(
    `enqueue: expected a task made by defineTask or a function, got ${describe(task)}`,
  );
}

function pickWorker(worker: unknown, identity: Identity, where: string): WorkerType {
  if (!WORKER_TYPES.includes(worker as WorkerType)) {
    throw new InvalidArgumentError(
      `${where} option worker: ${JSON.stringify(worker)} is not allowed; use one of ${WORKER_TYPES.join(", ")}`,
    );
  }
  if (identity.isPlainFunction && !IN_PROCESS.includes(worker as WorkerType)) {
    throw new InvalidArgumentError(
      `${where}: a plain function cannot run on a ${worker} worker, which loads tasks by name ` +
        `from their module. Define it as a task in a module of its own: ` +
        `export const ${safeIdentifier(identity.label)} = defineTask("${identity.label}", fn)`,
    );
  }
  return worker as WorkerType;
}

function pickRunAt(
  options: Pick<EnqueueOptions, "runAt" | "delay">,
  now: number,
  where: string,
): number {
  if (options.runAt !== undefined && options.delay !== undefined) {
    throw new InvalidArgumentError(`${where}: give either delay or runAt, not both`);
  }
  if (options.runAt !== undefined) {
    const at = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
    if (!Number.isFinite(at)) {
      throw new InvalidArgumentError(
        `${where} option runAt: ${String(options.runAt)} is not a time; use a Date or ms since the epoch`,
      );
    }
    return at;
  }
  return options.delay === undefined ? now : now + toMs(options.delay, `${where} option delay`);
}

function pickOptionalMs(
  value: EnqueueOptions["timeout"],
  fallback: number | null,
  where: string,
): number | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  return toMs(value, where);
}

function pickQueue(queue: unknown, where: string): string {
  if (typeof queue !== "string" || !/^[A-Za-z0-9_.:-]{1,100}$/.test(queue)) {
    throw new InvalidArgumentError(
      `${where} option queue: ${JSON.stringify(queue)} is not allowed; use 1 to 100 letters, digits and _ . : -`,
    );
  }
  return queue;
}

function pickInteger(value: unknown, where: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`${where}: ${String(value)} is not allowed; use a whole number`);
  }
  return value as number;
}

function pickRetries(value: unknown, where: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 1000) {
    throw new InvalidArgumentError(
      `${where} option retries: ${String(value)} is not allowed; use a whole number from 0 to 1000`,
    );
  }
  return value as number;
}

function pickBackoff(
  value: BackoffOption | undefined,
  fallback: BackoffSpec,
  where: string,
): BackoffSpec | null {
  if (value === undefined) return fallback;
  // A function stays in the task definition; the worker finds it there by name.
  if (typeof value === "function") return null;
  if (value.type === "fixed") {
    return { type: "fixed", delayMs: toMs(value.delay, `${where} option backoff.delay`) };
  }
  if (value.type === "exponential") {
    return {
      type: "exponential",
      baseMs: toMs(value.base ?? "1s", `${where} option backoff.base`),
      maxMs: toMs(value.max ?? "1h", `${where} option backoff.max`),
      jitter: value.jitter ?? true,
    };
  }
  throw new InvalidArgumentError(
    `${where} option backoff: type ${JSON.stringify((value as { type?: unknown }).type)} is not allowed; ` +
      `use "exponential", "fixed" or a function in the task definition`,
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

function safeIdentifier(label: string): string {
  const cleaned = label.replace(/[^A-Za-z0-9_$]/g, "_");
  return /^[A-Za-z_$]/.test(cleaned) ? cleaned : `task_${cleaned}`;
}

/**
 * Gives a plain function per-call options: `omniq.enqueue(withOptions(fn, { delay: "5s" }), ...)`.
 */
export function withOptions<A extends unknown[], R>(
  fn: (...args: A) => R,
  options: EnqueueOptions,
): ((...args: A) => R) & { enqueueOptions: EnqueueOptions } {
  // Keep the function itself, so that it keeps one local name however often it is wrapped.
  const wrapped = Object.assign(fn.bind(null) as (...args: A) => R, { enqueueOptions: options });
  originals.set(wrapped, originals.get(fn) ?? fn);
  return wrapped;
}

/** Functions made by `withOptions`, mapped to the functions they wrap. */
const originals = new WeakMap<object, unknown>();
