import { PRELUDE } from "./prelude.js";

/**
 * Puts a task that failed for good, was cancelled or expired back to
 * `pending`, due now, as if never tried: attempts, lease losses, error,
 * times, lease, result and idempotency key cleared (its token kept), with a
 * `requeued` event and a ready signal. ARGV[4] the id; ARGV[5] and ARGV[6]
 * the stored task's `d` as the caller read it and as it should become.
 *
 * A task with a time-to-live or a key has both in `d` too, which Lua cannot
 * rewrite exactly; for one, the first call (ARGV[5] empty) answers
 * { 'rewrite', d } and changes nothing, and the caller sends the rewritten
 * `d` with the one it read: applied only if `d` is still that. Answers
 * { outcome } otherwise: `requeued`, `completed`, `live` or `unknown`.
 */
export const REQUEUE = `${PRELUDE}
local REQUEUEABLE = { failed = true, cancelled = true, expired = true }
local CLEARED = { 'lastError', 'finishedAt', 'startedAt', 'expiresAt', 'ik', 'leaseOwner',
  'leaseExpiresAt', 'cancelRequested', 'cancelError', 'result', 'attempts', 'leaseLosses' }

local t = load(ARGV[4])
if not t then return finish({ 'unknown' }) end
if t.state == 'completed' then return finish({ 'completed' }) end
if not REQUEUEABLE[t.state] then return finish({ 'live' }) end

local rewritten = nil
if t.expiresAt or t.ik then
  loadMore(t, { 'd' })
  if ARGV[5] ~= t.d then return finish({ 'rewrite', t.d }) end
  rewritten = ARGV[6]
end

-- Out of its final state's index, into its ready set at its new run-at.
redis.call('ZREM', stateKey(t.queue, t.state), t.id)
moveState(t, 'pending')
redis.call('HDEL', t.key, unpack(CLEARED))
addEvent(t, 'requeued', 0)
if rewritten then
  save(t, 'state', 'pending', 'runAt', NOW, 'd', rewritten)
else
  save(t, 'state', 'pending', 'runAt', NOW)
end
t.runAt = NOW
addReady(t)
signalReady(t.queue)
return finish({ 'requeued' })
`;
