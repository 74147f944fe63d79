// Keeping the claim index small and true. Three chores, each cheap and
// each safe to run in several handles at once:
//
// - entries a claim or maintenance found out of line with their record
//   (a process died between writing a record and its index entry) are
//   rewritten from the record;
// - commit markers whose every task has an entry of its own, or finished,
//   are deleted;
// - delete markers older than ten minutes are purged, so that a new handle
//   does not replay the whole history of finished tasks.
import type { NatsContext } from "./context.js";
import { readTask, writeEntry } from "./context.js";
import { ENTRY_PREFIX, entryOf, MARKER_PREFIX } from "./index-entries.js";
import { bucketStream, keySubject } from "./names.js";
import { orderOf } from "./records.js";
import type { IndexTail } from "./tail.js";

const TOMBSTONE_AGE_MS = 10 * 60_000;
const MAX_PURGES_PER_RUN = 1_000;

export async function tidyIndex(ctx: NatsContext, index: IndexTail): Promise<void> {
  await repairSuspects(ctx, index);
  await Promise.all(
    index.view
      .spentMarkers()
      .map((batch) => ctx.js.remove(ctx.names.indexBucket, `${MARKER_PREFIX}${batch}`)),
  );
  await purgeTombstones(ctx, index);
}

async function repairSuspects(ctx: NatsContext, index: IndexTail): Promise<void> {
  const keys = [...ctx.suspects];
  ctx.suspects.clear();

  await Promise.all(
    keys.map(async (key) => {
      const seen = index.view.get(key);
      if (!seen) return;
      const current = await readTask(ctx, key);
      // An untouched record is indexed by its commit marker, which is right by construction.
      if (current?.stored.batch !== undefined) return;

      const entry = current ? entryOf(key, current.stored, orderOf(current)) : null;
      const same =
        entry !== null &&
        entry.state === seen.state &&
        entry.runAt === seen.runAt &&
        entry.leaseExpiresAt === seen.leaseExpiresAt;
      if (same) return;
      if (current) await writeEntry(ctx, key, current);
      else await ctx.js.remove(ctx.names.indexBucket, `${ENTRY_PREFIX}${key}`);
    }),
  );
}

async function purgeTombstones(ctx: NatsContext, index: IndexTail): Promise<void> {
  const old = index.view.takeTombstones(Date.now() - TOMBSTONE_AGE_MS, MAX_PURGES_PER_RUN);
  const stream = bucketStream(ctx.names.indexBucket);

  // Purging a subject below the marker's successor removes only the marker
  // itself: a key written again since keeps its newer message.
  await Promise.all(
    old.map((tombstone) =>
      ctx.js
        .apiOrError(`STREAM.PURGE.${stream}`, {
          filter: keySubject(ctx.names.indexBucket, `${ENTRY_PREFIX}${tombstone.key}`),
          seq: tombstone.seq + 1,
        })
        .catch(() => undefined),
    ),
  );
}
