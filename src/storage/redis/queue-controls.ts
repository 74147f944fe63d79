import type { QueueControl } from "../contract.js";
import type { ScriptContext } from "./context.js";

/**
 * Controls as P:controls stores them: nulls and a false `paused` left out
 * (see scripts/controls.ts).
 */
interface StoredControl {
  paused?: true;
  concurrency?: number;
  rateLimit?: { max: number; intervalMs: number };
}

/** The stored JSON of a control, or "" for the defaults, which are stored as nothing. */
function encodeControl(control: QueueControl | null): string {
  if (control === null) return "";
  const stored: StoredControl = {};
  if (control.paused) stored.paused = true;
  if (control.concurrency !== null) stored.concurrency = control.concurrency;
  if (control.rateLimit !== null) {
    stored.rateLimit = { max: control.rateLimit.max, intervalMs: control.rateLimit.intervalMs };
  }
  return Object.keys(stored).length === 0 ? "" : JSON.stringify(stored);
}

function decodeControl(json: string): QueueControl {
  const stored = JSON.parse(json) as StoredControl;
  return {
    paused: stored.paused === true,
    concurrency: stored.concurrency ?? null,
    rateLimit: stored.rateLimit ? { ...stored.rateLimit } : null,
  };
}

/** Stores a queue's controls, or removes them for null or the defaults, with a ready signal. */
export async function setQueueControl(
  ctx: ScriptContext,
  queue: string,
  control: QueueControl | null,
): Promise<void> {
  await ctx.write("omniqSetControl", [...ctx.base(), queue, encodeControl(control)]);
}

/** Every queue's stored controls, by queue name. */
export async function queueControls(ctx: ScriptContext): Promise<Record<string, QueueControl>> {
  const stored = await ctx.client.hgetall(`${ctx.prefix}:controls`);
  const controls: Record<string, QueueControl> = {};
  for (const [queue, json] of Object.entries(stored)) controls[queue] = decodeControl(json);
  return controls;
}
