// Small synchronous file helpers. The files backend works with synchronous
// calls on purpose: each storage operation is a few dozen system calls on a
// local disk, cheaper than as many trips through libuv's thread pool, and an
// operation that never awaits cannot interleave with another operation of
// the same process, so only other processes need the file-level protocol.
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";

/** The `code` of a Node system error, such as `ENOENT`. */
export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

export function isMissing(error: unknown): boolean {
  return errorCode(error) === "ENOENT";
}

/**
 * Renames `from` to `to`; false when `from` is gone. Rename is atomic: when
 * several processes rename the same file, exactly one succeeds.
 */
export function tryRename(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Renames a file we hold into a folder that may not exist yet (a new queue or bucket). */
export function moveInto(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if (!isMissing(error)) throw error;
    // Our own file is there, so the folder is what is missing.
    mkdirSync(dirname(to), { recursive: true });
    renameSync(from, to);
  }
}

export function unlinkQuietly(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** The names in a folder; none when it does not exist. */
export function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

const readBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * A small file's bytes in three system calls (open, read, close); null when
 * it does not exist. The answer may be a view of a buffer that the next call
 * reuses: decode it before reading again.
 */
export function readBytes(path: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }

  try {
    const length = readSync(fd, readBuffer, 0, readBuffer.length, 0);
    if (length < readBuffer.length) return readBuffer.subarray(0, length);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A small file's text; null when it does not exist. */
export function readText(path: string): string | null {
  return readBytes(path)?.toString("utf8") ?? null;
}

/** Creates a file that must not exist yet; false when it does. */
export function createExclusive(path: string, text: string | Uint8Array): boolean {
  try {
    writeFileSync(path, text, { flag: "wx" });
    return true;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
}

/** Writes all of `text` at the end of a file opened for appending. */
export function appendAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` (fractions allowed), for waits far shorter than a timer tick. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
