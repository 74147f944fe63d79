/**
 * How task arguments and results are written to storage and read back.
 *
 * The text is devalue's format behind a short version prefix, so a later
 * omniq can change the format and still read what an older one stored.
 * devalue keeps the types JSON loses (Date, BigInt, Map, Set, typed arrays,
 * undefined, NaN, -0, repeated and circular references), and its `parse`
 * builds values from data only: nothing in a payload is ever run.
 */
import { DevalueError, parse, stringify } from "devalue";
import { SerializationError } from "../errors.js";
import { describeRefused, locate } from "./locate.js";

/** Starts every encoded text: devalue's format, omniq's version 1 of it. */
export const FORMAT_PREFIX = "dv1:";

/** What `encodeValue([])` returns; most tasks take no arguments, so it skips devalue. */
export const ENCODED_EMPTY_LIST = `${FORMAT_PREFIX}[[]]`;

const ALLOWED =
  "task arguments and results must be data: numbers, strings, booleans, null, undefined, " +
  "plain objects, arrays, Date, BigInt, Map, Set, typed arrays, Buffer";

const EXCERPT_CHARS = 60;

// devalue would write a Buffer as a plain Uint8Array. The reducer hands it a
// copy of just the visible bytes (Buffers often share a larger pool) as an
// object, which stays truthy even when the Buffer is empty.
const REDUCERS = {
  Buffer: (value: unknown) => Buffer.isBuffer(value) && new Uint8Array(value),
};

const REVIVERS = {
  Buffer: (bytes: unknown) => {
    if (!(bytes instanceof Uint8Array)) throw new Error("a Buffer entry does not hold bytes");
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
};

/**
 * Turns a value into text that `decodeValue` reads back with its types.
 *
 * @param value - what to store: task arguments (an array) or a result.
 * @param root - names the value in error paths, such as `"args"` or `"result"`.
 * @throws {SerializationError} when part of the value cannot be stored; its
 *   `path` says where, such as `args[1].cb`.
 */
export function encodeValue(value: unknown, root: string): string {
  if (Array.isArray(value) && value.length === 0) return ENCODED_EMPTY_LIST;
  if (isPlainAtom(value)) return `${FORMAT_PREFIX}[${JSON.stringify(value)}]`;
  const list = plainListText(value);
  if (list !== null) return list;

  try {
    return FORMAT_PREFIX + stringify(value, REDUCERS);
  } catch (error) {
    throw refusal(error, value, root);
  }
}

/**
 * Reads back text written by `encodeValue`. Only builds data; it never runs
 * code, whatever the text holds.
 *
 * @param text - the stored text.
 * @param root - names the value in the error, such as `"args"`.
 * @default root "payload"
 * @throws {SerializationError} when the text is not something `encodeValue` wrote.
 */
export function decodeValue(text: string, root = "payload"): unknown {
  if (text === ENCODED_EMPTY_LIST) return [];
  const atom = readPlainAtom(text);
  if (atom !== NOT_AN_ATOM) return atom;
  const list = readPlainList(text);
  if (list !== null) return list;

  if (!text.startsWith(FORMAT_PREFIX)) {
    throw undecodable(text, root, `it does not start with "${FORMAT_PREFIX}"`);
  }

  try {
    return parse(text.slice(FORMAT_PREFIX.length), REVIVERS);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw undecodable(text, root, reason, error);
  }
}

/*
 * Most results are one number, string, boolean or null. devalue writes such
 * a value as a JSON array of just that value, which JSON itself writes and
 * reads as well as devalue does, without devalue's walk of the value (on a
 * no-op task, encoding its result through devalue cost more than running it).
 * Strings may come out escaped differently from devalue's own text; either
 * reads back the same.
 */
function isPlainAtom(value: unknown): value is number | string | boolean | null {
  switch (typeof value) {
    case "number":
      // NaN, the infinities and -0 have no JSON form: devalue writes them its own way.
      return Number.isFinite(value) && !Object.is(value, -0);
    case "string":
    case "boolean":
      return true;
    default:
      return value === null;
  }
}

/** Lists longer than this go through devalue: the short path is for the usual few arguments. */
const MOST_PLAIN_ITEMS = 16;

/*
 * Most argument lists are a few numbers and strings. devalue writes such a
 * list as a JSON array: the list of the positions its items stand at (1 to
 * n), then the items. That text is written here, and read back here when it
 * has that exact shape, without devalue's walk: on the step between an
 * enqueue and an idle worker's start, devalue's code is cold, and was the
 * largest single part of both ends' work (some 90 µs of 300 on this VM).
 * devalue writes a repeated value once, under one position; this path
 * writes it again, which devalue reads the same.
 */
function plainListText(value: unknown): string | null {
  if (!Array.isArray(value) || value.length > MOST_PLAIN_ITEMS) return null;
  let positions = "";
  let items = "";
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (!isPlainAtom(item)) return null;
    positions += i === 0 ? String(i + 1) : `,${i + 1}`;
    items += `,${JSON.stringify(item)}`;
  }
  return `${FORMAT_PREFIX}[[${positions}]${items}]`;
}

/** The items of a text `plainListText` writes, or null for any other text. */
function readPlainList(text: string): unknown[] | null {
  if (!text.startsWith(`${FORMAT_PREFIX}[[1`)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(FORMAT_PREFIX.length));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  const positions: unknown = parsed[0];
  if (!Array.isArray(positions) || positions.length !== parsed.length - 1) return null;
  for (let i = 0; i < positions.length; i++) {
    const item: unknown = parsed[i + 1];
    if (positions[i] !== i + 1 || (typeof item === "object" && item !== null)) return null;
  }
  return parsed.slice(1);
}

const NOT_AN_ATOM = Symbol("not an atom");

/**
 * The value of a text that is `dv1:[atom]`, or NOT_AN_ATOM for anything
 * else. Only what is between the brackets is parsed, so no array is made
 * just to be taken apart (a fair share of reading a small result); a text
 * of several values there is no JSON value, and fails to parse.
 */
function readPlainAtom(text: string): unknown {
  const open = FORMAT_PREFIX.length;
  const first = text.charCodeAt(open + 1);
  // "[" then an array, an object or nothing: a structure, left to devalue.
  if (text.charCodeAt(open) !== 0x5b || first === 0x5b || first === 0x7b || first === 0x5d) {
    return NOT_AN_ATOM;
  }
  if (text.charCodeAt(text.length - 1) !== 0x5d || !text.startsWith(FORMAT_PREFIX)) {
    return NOT_AN_ATOM;
  }

  let atom: unknown;
  try {
    atom = JSON.parse(text.slice(open + 1, -1));
  } catch {
    return NOT_AN_ATOM;
  }
  return typeof atom === "object" && atom !== null ? NOT_AN_ATOM : atom;
}

function refusal(error: unknown, value: unknown, root: string): SerializationError {
  if (error instanceof DevalueError) {
    // Our own walk gives better paths (Set members, Map keys); devalue's path
    // is the fallback when the refused thing cannot be found again.
    const path = locate(value, error.value, root) ?? root + error.path;
    const message = `${path} is ${describeRefused(error.value)}; ${ALLOWED}`;
    return new SerializationError(path, message, { cause: error });
  }

  if (error instanceof RangeError) {
    const message = `${root} is nested too deeply to store (${error.message})`;
    return new SerializationError(root, message, { cause: error });
  }

  const reason = error instanceof Error ? error.message : String(error);
  const message = `${root} could not be encoded: ${reason}`;
  return new SerializationError(root, message, { cause: error });
}

function undecodable(
  text: string,
  root: string,
  reason: string,
  cause?: unknown,
): SerializationError {
  const excerpt = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
  const message =
    `${root} could not be decoded (${reason}); the stored text is corrupted or was not ` +
    `written by omniq: ${JSON.stringify(excerpt)}`;
  return new SerializationError(root, message, cause === undefined ? undefined : { cause });
}
