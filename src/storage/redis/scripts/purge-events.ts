import { PRELUDE } from "./prelude.js";

/**
 * Step 4 of `maintain`: events at or before a cutoff time are deleted, oldest
 * first. ARGV[4] how many log members to read at most, ARGV[5] the cutoff
 * (now minus the event time-to-live). Answers { events deleted, members
 * read }.
 *
 * The events of one log member share one time, so a member goes whole. The
 * log is read in seq order and the scan stops at the first member still
 * within its time-to-live: with one clock that is exact; with the clocks of
 * several machines a little apart, an event may outlive its time by that
 * gap. Deleting in seq order also keeps each task's own seq list exact: its
 * first seq is always the task's oldest event still in the log.
 */
export const PURGE_EVENTS = `${PRELUDE}
local oldest = redis.call('ZRANGE', LOG, 0, tonumber(ARGV[4]) - 1)
local cutoff = tonumber(ARGV[5])
local deleted, members = 0, 0

-- Drops the first seq of a task's list: in its hash while it exists, else
-- in the key its list moved to when the task was deleted (also when a new
-- task took the id of a deleted one, whose list starts elsewhere).
local function forget(taskId, seq)
  local key = taskKey(taskId)
  local first, rest = string.match(redis.call('HGET', key, 'ev') or '', '^(%d+) ?(.*)$')
  if first and tonumber(first) == seq then
    redis.call('HSET', key, 'ev', rest)
  else
    redis.call('LPOP', orphanEventsKey(taskId))
  end
end

for _, member in ipairs(oldest) do
  -- The first "at" of the member is its first event's own: the text cannot
  -- occur inside a JSON string.
  if tonumber(string.match(member, '"at":([^,}]+)')) > cutoff then break end
  members = members + 1
  for _, event in ipairs(cjson.decode(member)) do
    deleted = deleted + 1
    forget(event.taskId, tonumber(event.seq))
  end
end
if members > 0 then redis.call('ZREMRANGEBYRANK', LOG, 0, members - 1) end

return finish({ deleted, members == #oldest and #oldest or 0 })
`;
