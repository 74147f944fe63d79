/**
 * The sources of configuration as layers: each validated on its own, so an
 * error can say which source a bad value came from, then merged in order.
 */
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import type { EnvInput } from "./env.js";
import type { ConfigFile } from "./file.js";
import { fieldName, issueToError, type SourceOf } from "./issues.js";
import { fileSchema, inputSchema, NOT_IN_FILE } from "./schema.js";
import type { OmniQConfigInput } from "./types.js";

/** One validated source of options. */
export interface Layer {
  kind: "file" | "object" | "env";
  data: OmniQConfigInput;
  sourceOf: SourceOf;
}

/** The options object given in code. */
export function objectLayer(input: unknown): Layer {
  const sourceOf: SourceOf = () => "the options object";
  return { kind: "object", data: validate(inputSchema, input ?? {}, sourceOf), sourceOf };
}

/** `OMNIQ_*` variables; each field's source is the variable that set it. */
export function envLayer(env: EnvInput): Layer {
  const sourceOf: SourceOf = (path) => {
    // A list item such as worker.queues[1] came from the list's variable.
    for (let length = path.length; length > 0; length -= 1) {
      const variable = env.variables.get(fieldName(path.slice(0, length)));
      if (variable) return variable;
    }
    return "the environment";
  };
  return { kind: "env", data: validate(inputSchema, env.input, sourceOf), sourceOf };
}

/** A config file; each field's source names the file and the field's line. */
export function fileLayer(file: ConfigFile): Layer {
  const sourceOf: SourceOf = (path) => {
    const line = file.lineOf(path);
    return `config file ${file.path}${line === undefined ? "" : `, line ${line}`}`;
  };

  const data = file.data as Record<string, unknown>;
  for (const [key, reason] of Object.entries(NOT_IN_FILE)) {
    if (Object.hasOwn(data, key)) {
      throw new ConfigError(
        key,
        `${key} (from ${sourceOf([key])}) cannot be set in a config file: ${reason}`,
      );
    }
  }
  return { kind: "file", data: validate(fileSchema, data, sourceOf), sourceOf };
}

function validate(schema: z.ZodType, data: unknown, sourceOf: SourceOf): OmniQConfigInput {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data as OmniQConfigInput;

  // The first problem is reported; fixing it and running again shows the next.
  const [first] = result.error.issues;
  if (!first)
    throw new ConfigError("options", `the options are not valid: ${result.error.message}`);
  throw issueToError(first, schema, sourceOf);
}

/**
 * Merges layers in order, later ones winning field by field. `worker` and
 * `defaults` merge one level deep; a backoff is replaced whole, as its fields
 * depend on its type.
 */
export function mergeLayers(layers: readonly Layer[]): OmniQConfigInput {
  let merged: OmniQConfigInput = {};
  for (const layer of layers) {
    const over = withoutUndefined(layer.data);
    const worker = mergeWorker(merged.worker, over.worker, layer.kind === "env");
    const defaults = over.defaults
      ? { ...merged.defaults, ...withoutUndefined(over.defaults) }
      : merged.defaults;
    merged = { ...merged, ...over, worker, defaults };
  }
  return withoutUndefined(merged);
}

function mergeWorker(
  base: OmniQConfigInput["worker"],
  over: OmniQConfigInput["worker"],
  fromEnv: boolean,
): OmniQConfigInput["worker"] {
  if (over === undefined) return base;
  if (over === false) return false;

  // Variables tune a worker; a deployment that sets OMNIQ_CONCURRENCY must
  // not turn a producer that asked for `worker: false` into a worker.
  if (base === false) return fromEnv ? false : { ...withoutUndefined(over) };
  return { ...base, ...withoutUndefined(over) };
}

/** `{ lease: undefined }` leaves the lease to earlier sources and the default. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

/** Where the merged value at `path` came from: the last layer that set it, or the defaults. */
export function mergedSourceOf(layers: readonly Layer[]): SourceOf {
  return (path) => {
    for (let i = layers.length - 1; i >= 0; i -= 1) {
      const layer = layers[i];
      if (layer && hasPath(layer.data, path)) return layer.sourceOf(path);
    }
    return "the defaults";
  };
}

function hasPath(data: unknown, path: readonly PropertyKey[]): boolean {
  let node = data;
  for (const key of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node !== undefined;
}
