// Queue controls: one record per queue with controls other than the
// defaults, `c.<queue>` in the claim index bucket. Every claiming handle
// follows that bucket and catches up with it before each claim, so a claim
// sees every control stored before it began without reading anything more,
// and a store where no queue has controls pays nothing for them.
import type { QueueControl } from "../contract.js";
import type { NatsContext } from "./context.js";
import { CONTROL_PREFIX } from "./index-entries.js";
import { nameKey } from "./names.js";

function isDefault(control: QueueControl | null): boolean {
  return (
    control === null ||
    (!control.paused && control.concurrency === null && control.rateLimit === null)
  );
}

/** Stores a queue's controls, or removes them for null or the defaults; signals `ready`. */
export async function setQueueControl(
  ctx: NatsContext,
  queue: string,
  control: QueueControl | null,
): Promise<void> {
  const key = `${CONTROL_PREFIX}${nameKey(queue)}`;
  if (control === null || isDefault(control)) {
    await ctx.js.remove(ctx.names.indexBucket, key);
  } else {
    const stored: QueueControl = {
      paused: control.paused,
      concurrency: control.concurrency,
      rateLimit: control.rateLimit === null ? null : { ...control.rateLimit },
    };
    await ctx.js.put(ctx.names.indexBucket, key, JSON.stringify(stored));
  }
  ctx.signals.send([{ type: "ready", queue }]);
}

/** Every queue with controls, as the claim index has them once caught up. */
export async function queueControls(ctx: NatsContext): Promise<Record<string, QueueControl>> {
  const index = await ctx.index();
  await index.sync();

  const controls: Record<string, QueueControl> = {};
  for (const [queue, control] of index.view.controls) {
    controls[queue] = {
      ...control,
      rateLimit: control.rateLimit === null ? null : { ...control.rateLimit },
    };
  }
  return controls;
}
