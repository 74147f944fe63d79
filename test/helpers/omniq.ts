import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { OmniQConfigInput } from "../../src/config/types.js";
import { OmniQ } from "../../src/index.js";
import { tempDir, tempSqliteUrl } from "./temp.js";

/** The embedded backends every facade test runs on. */
export const EMBEDDED = ["memory", "sqlite", "file"] as const;

export type Embedded = (typeof EMBEDDED)[number];

/** A storage URL of the given kind, fresh for one test. */
export function freshUrl(kind: Embedded): { url: string; remove(): void } {
  if (kind === "memory") return { url: `memory://test-${randomUUID()}`, remove: () => {} };
  if (kind === "file") {
    const dir = tempDir();
    return { url: `file://${join(dir.path, "store")}`, remove: dir.remove };
  }
  return tempSqliteUrl();
}

/**
 * Opens an OmniQ on a fresh store with short timings, so tests finish fast.
 * The returned `close` also removes the store's files.
 */
export async function openTestOmniQ(
  kind: Embedded,
  config: OmniQConfigInput = {},
): Promise<{ omniq: OmniQ; url: string; close(): Promise<void> }> {
  const store = freshUrl(kind);
  const omniq = await OmniQ.open({
    storage: store.url,
    pollInterval: 20,
    lease: "2s",
    stopTimeout: "2s",
    ...config,
  });
  return {
    omniq,
    url: store.url,
    close: async () => {
      await omniq.close();
      store.remove();
    },
  };
}

/** Polls until the task reaches `state`; fails after `withinMs`. */
export async function waitForState(
  omniq: { getTask(id: string): Promise<{ state: string }> },
  id: string,
  state: string,
  withinMs = 3_000,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while ((await omniq.getTask(id)).state !== state) {
    if (Date.now() > deadline) assert.fail(`task ${id} never reached ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls `check` until it holds; fails after `withinMs`. */
export async function waitUntil(check: () => Promise<boolean>, withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail("the condition never held");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
