/**
 * Turns a zod issue into a ConfigError whose message names the field, the
 * value given, where it came from and what is allowed:
 *
 *   worker.concurrency: -3 (from OMNIQ_CONCURRENCY) is not allowed; use a whole number from 1 to
 * 100000
 *
 * What is allowed comes from the `.describe()` text of the schema at the
 * issue's path, so the schema stays the one place that says it.
 */
import { z } from "zod";
import { ConfigError } from "../errors.js";

/** Says where a field's value came from: `OMNIQ_LEASE`, `config file ./omniq.yaml, line 3`. */
export type SourceOf = (path: readonly PropertyKey[]) => string;

const MAX_SHOWN = 80;

/** `worker.queues[1]`; the whole input is called `options`. */
export function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "options" : out;
}

/** A value as a message shows it, with any password in a URL hidden. */
export function showValue(value: unknown): string {
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return `${value}n`;

  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  shown = shown.replace(/(\/\/[^/:@\s"]*:)[^/@\s"]*@/g, "$1***@");
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown;
}

/** The ConfigError for one zod issue found in one source. */
export function issueToError(
  issue: z.core.$ZodIssue,
  schema: z.ZodType,
  sourceOf: SourceOf,
): ConfigError {
  if (issue.code === "unrecognized_keys") return unknownKeyError(issue, schema, sourceOf);

  const inner = issue.code === "invalid_union" ? branchIssue(issue) : undefined;
  if (inner) return issueToError(inner, schema, sourceOf);

  // A bad discriminator is reported on the object; show the `type` itself.
  const discriminator = issue.code === "invalid_union" ? issue.discriminator : undefined;
  const path =
    discriminator && !issue.path.includes(discriminator)
      ? [...issue.path, discriminator]
      : issue.path;
  const value =
    discriminator && typeof issue.input === "object" && issue.input !== null
      ? (issue.input as Record<string, unknown>)[discriminator]
      : issue.input;

  const field = fieldName(path);
  const allowed = allowedAt(schema, path) ?? issue.message;
  const where = sourceOf(path);

  // Optional fields accept undefined, so undefined here is a required field left out.
  if (value === undefined) {
    return new ConfigError(field, `${field} is missing (in ${where}); use ${allowed}`);
  }
  return new ConfigError(
    field,
    `${field}: ${showValue(value)} (from ${where}) is not allowed; use ${allowed}`,
  );
}

/**
 * When a value fits none of a union's options, the useful complaint is the
 * one from the option of the right shape: for `worker: { concurrency: "x" }`
 * that is the object option's, not "expected false". An option whose only
 * complaint is about the value's own type or value is the wrong shape.
 */
function branchIssue(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue | undefined {
  const wrongShape = (inner: z.core.$ZodIssue) =>
    inner.path.length === 0 && (inner.code === "invalid_type" || inner.code === "invalid_value");
  const fitting = issue.errors.filter((branch) => !branch.every(wrongShape));

  const first = fitting.length === 1 ? fitting[0]?.[0] : undefined;
  return first && { ...first, path: [...issue.path, ...first.path] };
}

function unknownKeyError(
  issue: z.core.$ZodIssueUnrecognizedKeys,
  schema: z.ZodType,
  sourceOf: SourceOf,
): ConfigError {
  const key = issue.keys[0] ?? "";
  const path = [...issue.path, key];
  const field = fieldName(path);
  const known = knownKeysAt(schema, issue.path);

  const others = issue.keys.length > 1 ? ` (and also ${issue.keys.slice(1).join(", ")})` : "";
  const guess = closest(key, known);
  const hint = guess ? ` Did you mean ${guess}?` : "";
  const message =
    `${field} (from ${sourceOf(path)}) is not a known option${others}.${hint} ` +
    `Known options${issue.path.length > 0 ? ` of ${fieldName(issue.path)}` : ""}: ${known.join(", ")}`;
  return new ConfigError(field, message);
}

const ignore = () => {};

/** Wrappers that add nothing to a field's meaning: optional, nullable. */
function unwrap(schema: z.ZodType, noteDescription: (text: string) => void): z.ZodType {
  let current = schema;
  for (;;) {
    if (current.description) noteDescription(current.description);
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
      current = current.unwrap() as z.ZodType;
    } else {
      return current;
    }
  }
}

function childOf(schema: z.ZodType, key: PropertyKey): z.ZodType | undefined {
  if (schema instanceof z.ZodObject && typeof key === "string") {
    return (schema.shape as Record<string, z.ZodType | undefined>)[key];
  }
  if (schema instanceof z.ZodArray && typeof key === "number") return schema.element as z.ZodType;
  if (schema instanceof z.ZodUnion) {
    for (const option of schema.options as readonly z.ZodType[]) {
      const child = childOf(unwrap(option, ignore), key);
      if (child) return child;
    }
  }
  return undefined;
}

/** The deepest description on the way to `path`: the field's own, or its nearest parent's. */
function allowedAt(schema: z.ZodType, path: readonly PropertyKey[]): string | undefined {
  let allowed: string | undefined;
  const note = (text: string) => {
    allowed = text;
  };

  let current: z.ZodType | undefined = unwrap(schema, note);
  for (const key of path) {
    current = childOf(current, key);
    if (!current) break;
    current = unwrap(current, note);
  }
  return allowed;
}

function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = unwrap(schema, ignore);
  for (const key of path) {
    current = current && childOf(current, key);
    if (current) current = unwrap(current, ignore);
  }
  if (!current) return [];

  // worker is `false` or an object: its keys are the object option's.
  const options =
    current instanceof z.ZodUnion ? (current.options as readonly z.ZodType[]) : [current];
  const keys = options.flatMap((option) =>
    option instanceof z.ZodObject ? Object.keys(option.shape) : [],
  );
  return [...new Set(keys)];
}

/** The known key a typo most likely meant: at most two edits away, and not a whole other word. */
function closest(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(typed.length / 2)) + 1;
  for (const candidate of known) {
    const distance = editDistance(typed.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}
