/**
 * Reading a YAML or JSON config file, and finding the line of a field in it
 * so that an error can point there.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { ConfigError } from "../errors.js";
import { showValue } from "./issues.js";
import { jsonErrorLine } from "./json-error.js";

/** A config file's content, read but not yet validated. */
export interface ConfigFile {
  /** The path as it was given. */
  path: string;
  data: unknown;
  /** The line (from 1) of the field at `path`, or of its nearest parent that is there. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

type Format = "YAML" | "JSON";

/** Reads and parses a config file. `where` says who named it, for errors: `OMNIQ_CONFIG`. */
export async function readConfigFile(path: string, where: string): Promise<ConfigFile> {
  const format = formatOf(path, where);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw unreadable(path, where, error);
  }
  return parseConfigText(text, path, format);
}

/** The same as `readConfigFile`, blocking; for start-up code that cannot wait. */
export function readConfigFileSync(path: string, where: string): ConfigFile {
  const format = formatOf(path, where);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw unreadable(path, where, error);
  }
  return parseConfigText(text, path, format);
}

function formatOf(path: string, where: string): Format {
  const extension = extname(path).toLowerCase();
  if (extension === ".yaml" || extension === ".yml") return "YAML";
  if (extension === ".json") return "JSON";
  throw new ConfigError(
    "configFile",
    `configFile: ${showValue(path)} (from ${where}) is not allowed; use a path ending in .yaml, .yml or .json`,
  );
}

function unreadable(path: string, where: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  // Node's own message repeats the path; ours names it already.
  const reason =
    code === "ENOENT"
      ? "no such file (ENOENT)"
      : error instanceof Error
        ? error.message
        : String(error);
  const message = `configFile: ${showValue(path)} (from ${where}) cannot be read: ${reason}`;
  return new ConfigError("configFile", message, { cause: error });
}

function parseConfigText(text: string, path: string, format: Format): ConfigFile {
  const data = format === "JSON" ? parseJson(text, path) : parseYaml(text, path);
  if (data !== null && data !== undefined && (typeof data !== "object" || Array.isArray(data))) {
    throw new ConfigError(
      "configFile",
      `config file ${path} holds ${showValue(data)}; it must hold an object of options (a mapping of keys to values)`,
    );
  }

  // An empty file means no options. Lines are looked up only when an error needs one.
  return { path, data: data ?? {}, lineOf: (fieldPath) => lineInText(text, fieldPath) };
}

function parseYaml(text: string, path: string): unknown {
  const document = parseDocument(text, { lineCounter: new LineCounter() });
  const [first] = document.errors;
  if (first) {
    // The parser's message repeats the place and quotes the text; the first
    // line, without the place, is the reason.
    const reason = (first.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    throw brokenFile(path, "YAML", first.linePos?.[0].line, reason, first);
  }
  return document.toJS();
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8 quotes the text around the error, line breaks and all.
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ");
    throw brokenFile(path, "JSON", jsonErrorLine(text), reason, error);
  }
}

function brokenFile(
  path: string,
  format: Format,
  line: number | undefined,
  reason: string,
  cause: unknown,
): ConfigError {
  const at = line === undefined ? "" : `, line ${line}`;
  return new ConfigError(
    "configFile",
    `config file ${path}${at} is not valid ${format}: ${reason}`,
    { cause },
  );
}

/** Finds the line of a field by parsing the text again; JSON is YAML too. */
function lineInText(text: string, fieldPath: readonly PropertyKey[]): number | undefined {
  const lineCounter = new LineCounter();
  let node: unknown = parseDocument(text, { lineCounter }).contents;

  // Walk down as far as the path exists, so that a key that is missing points
  // at its nearest parent. A map entry's line is its key's.
  let line: number | undefined;
  for (const key of fieldPath) {
    let located: unknown;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === key);
      located = pair?.key;
      next = pair?.value;
    } else if (isSeq(node) && typeof key === "number") {
      located = node.items[key];
      next = located;
    }

    const start = rangeStart(located);
    if (start === undefined) break;
    line = lineCounter.linePos(start).line;
    node = next;
  }
  return line;
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== "object" || node === null || !("range" in node)) return undefined;
  const range = (node as { range?: unknown }).range;
  return Array.isArray(range) && typeof range[0] === "number" ? range[0] : undefined;
}
