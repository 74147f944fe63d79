// Helpers of the worker benchmarks: stores, timing, one JSON line per result.

import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh storage URL of `kind`, and what removes it. */
export function freshStore(kind: string): { url: string; remove(): void } {
  if (kind === "memory") return { url: `memory://bench-${randomUUID()}`, remove: () => {} };
  if (kind !== "sqlite") throw new Error(`unknown storage kind ${kind}; use memory or sqlite`);
  const dir = mkdtempSync(join(tmpdir(), "omniq-bench-"));
  return {
    url: `sqlite://${join(dir, "omniq.db")}`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The value of `--name value` on the command line, or `fallback`. */
export function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

export function report(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
