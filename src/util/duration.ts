import { InvalidArgumentError } from "../errors.js";

/**
 * A length of time: milliseconds, or a string such as `"250ms"`, `"30s"`, `"5m"`, `"2h"`, `"1d"`.
 */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;

/**
 * Reads a duration into milliseconds. `where` names the option in the error
 * message, so a caller learns which value was wrong.
 */
export function toMs(value: Duration, where: string): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new InvalidArgumentError(
      `${where}: ${value} is not a duration; use milliseconds >= 0 or a string such as "30s"`,
    );
  }

  const match = DURATION_PATTERN.exec(value);
  if (!match) {
    throw new InvalidArgumentError(
      `${where}: "${value}" is not a duration; use milliseconds or a number with ms, s, m, h or d, ` +
        `such as "500ms" or "30s"`,
    );
  }
  return Number(match[1]) * (UNIT_MS[match[2] ?? "ms"] ?? 1);
}

/** Checks a string or number is a duration without converting it; for schema validation. */
export function isDuration(value: unknown): value is Duration {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0;
  return typeof value === "string" && DURATION_PATTERN.test(value);
}
