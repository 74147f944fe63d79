// Reading what the `span` task (test/fixtures/tasks.ts) wrote.
import { readFileSync } from "node:fs";

/** The lines `span` appended to `file`. */
export function spansOf(file: string): string[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter((line) => line !== "");
}

/** The most spans that overlap at any moment. */
export function mostAtOnce(lines: readonly string[]): number {
  const edges: [number, number][] = [];
  for (const line of lines) {
    const [, , start, end] = line.split(" ");
    edges.push([Number(start), 1], [Number(end), -1]);
  }
  // An end at the same ms as a start comes first: touching spans do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let most = 0;
  for (const [, change] of edges) {
    running += change;
    most = Math.max(most, running);
  }
  return most;
}
