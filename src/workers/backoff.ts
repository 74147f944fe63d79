import type { BackoffSpec } from "../task/record.js";

/** The default when neither the task nor the config says: 1 s doubling up to 1 h, with jitter. */
export const DEFAULT_BACKOFF: BackoffSpec = {
  type: "exponential",
  baseMs: 1_000,
  maxMs: 3_600_000,
  jitter: true,
};

/**
 * The wait in ms after failure number `failures` (from 1). Exponential delays
 * double each time up to the maximum; jitter draws the delay at random from
 * its upper half, so that many tasks failing together do not retry together.
 */
export function backoffDelay(spec: BackoffSpec, failures: number, random = Math.random): number {
  if (spec.type === "fixed") return spec.delayMs;

  const exponent = Math.min(Math.max(failures - 1, 0), 40);
  const delay = Math.min(spec.baseMs * 2 ** exponent, spec.maxMs);
  return spec.jitter ? delay / 2 + random() * (delay / 2) : delay;
}
