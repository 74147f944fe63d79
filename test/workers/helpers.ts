// Helpers shared by the worker tests.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { Logger } from "../../src/index.js";

/** The non-empty lines of `file`, or none when it does not exist yet. */
export function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean);
}

/** Polls until `check` holds; fails with `what` after `withinMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  withinMs = 10_000,
) {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One line a logger received. */
export interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps what it is given, for assertions. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const captured: LogLine[] = [];
  const method =
    (level: string) =>
    (fieldsOrMessage: object | string, message?: string): void => {
      if (typeof fieldsOrMessage === "string")
        captured.push({ level, fields: {}, message: fieldsOrMessage });
      else
        captured.push({
          level,
          fields: fieldsOrMessage as Record<string, unknown>,
          message: message ?? "",
        });
    };
  return {
    logger: {
      debug: method("debug"),
      info: method("info"),
      warn: method("warn"),
      error: method("error"),
    },
    lines: captured,
  };
}

/** Whether a process with this id is alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
