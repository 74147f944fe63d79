import type { Clock } from "../storage/contract.js";

/**
 * A clock that moves only when told to, for tests of time-based behaviour
 * (delays, leases, time-to-live) that should not sleep.
 */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2030, 0, 1)) {}

  now(): number {
    return this.current;
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.current += ms;
  }

  set(ms: number): void {
    this.current = ms;
  }
}
