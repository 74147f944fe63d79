import { PRELUDE } from "./prelude.js";

/**
 * Schedules, after the prelude: P:schedules holds id -> "<version> <data>".
 * An event of a schedule goes in the log like a task's, and its seq in the
 * list a deleted task's seqs move to (P:events:<id>), so that `taskEvents`
 * of the schedule's id finds it and event housekeeping forgets it in order.
 */
const SCHEDULES = `${PRELUDE}
local SCHEDULES = P .. ':schedules'

-- Records an event of the schedule when a type is given; 'stem' is its
-- taskId, queue and name as JSON fields (made by the caller).
local function scheduleEvent(id, kind, stem)
  if kind == '' then return end
  local seq = addEventTo(stem, '', kind, 0)
  if seq ~= '' then redis.call('RPUSH', orphanEventsKey(id), seq) end
end
`;

/**
 * Writes a schedule if its version is the expected one. ARGV[4] the id,
 * ARGV[5] the data, ARGV[6] the expected version (empty: only if there is
 * none), ARGV[7] the event's type (empty: no event) and ARGV[8] its stem.
 * Answers the new version, or nil when the version did not match.
 */
export const PUT_SCHEDULE = `${SCHEDULES}
local id, data, expected = ARGV[4], ARGV[5], ARGV[6]
local current = redis.call('HGET', SCHEDULES, id)
local version
if expected == '' then
  if current then return finish(false) end
  version = 1
else
  local stored = current and tonumber(string.match(current, '^(%d+) '))
  if stored ~= tonumber(expected) then return finish(false) end
  version = stored + 1
end

redis.call('HSET', SCHEDULES, id, num(version) .. ' ' .. data)
scheduleEvent(id, ARGV[7], ARGV[8])
return finish(version)
`;

/**
 * Deletes a schedule. ARGV[4] the id, ARGV[5] the event's type (empty: no
 * event) and ARGV[6] its stem. Answers 1 when there was one, else 0.
 */
export const DELETE_SCHEDULE = `${SCHEDULES}
local id = ARGV[4]
if redis.call('HDEL', SCHEDULES, id) == 0 then return finish(0) end
scheduleEvent(id, ARGV[5], ARGV[6])
return finish(1)
`;
