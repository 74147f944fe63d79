// Queue controls in the memory backend: how many tasks a claim may take
// from a queue that is paused, limited in concurrency or rate limited.
import type { QueueControl } from "../contract.js";
import type { MemoryStore } from "./store.js";

/** How many of `wanted` the queue's controls let one claim take now; counts them as taken. */
export function allowance(store: MemoryStore, queue: string, wanted: number, now: number): number {
  const control = store.controls.get(queue);
  if (!control || wanted <= 0) return wanted;
  if (control.paused) return 0;

  let room = wanted;
  if (control.concurrency !== null) {
    room = Math.min(room, control.concurrency - runningIn(store, queue));
  }
  if (control.rateLimit !== null) {
    room = Math.min(room, control.rateLimit.max - claimsInWindow(store, queue, control, now));
  }
  return Math.max(0, room);
}

/** Claims counted in the rate-limit window that holds `now`. */
function claimsInWindow(store: MemoryStore, queue: string, control: QueueControl, now: number) {
  const window = store.windows.get(queue);
  if (!control.rateLimit || !window) return 0;
  return window.start === windowStart(control.rateLimit.intervalMs, now) ? window.count : 0;
}

function windowStart(intervalMs: number, now: number): number {
  return now - (now % intervalMs);
}

/** Adds claims to a rate-limited queue's current window. */
export function countClaims(store: MemoryStore, queue: string, count: number, now: number): void {
  const control = store.controls.get(queue);
  if (!control?.rateLimit || count === 0) return;

  const used = claimsInWindow(store, queue, control, now);
  store.windows.set(queue, {
    start: windowStart(control.rateLimit.intervalMs, now),
    count: used + count,
  });
}

function runningIn(store: MemoryStore, queue: string): number {
  let running = 0;
  for (const { record } of store.tasks.values()) {
    if (record.queue === queue && record.state === "running") running += 1;
  }
  return running;
}
