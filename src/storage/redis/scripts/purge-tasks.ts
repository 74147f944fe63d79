import { DELETION } from "./deletion.js";
import { PRELUDE } from "./prelude.js";

/**
 * Step 3 of `maintain`: finished tasks whose result time-to-live passed are
 * deleted with their results. Their events stay, under the event
 * time-to-live (see the prelude's deleteTask). ARGV[4] how many deletion
 * groups to read at most. Answers { tasks deleted, groups read }.
 */
export const PURGE_TASKS = `${PRELUDE}${DELETION}
local groupsDue = redis.call('ZRANGEBYSCORE', DONE, '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[4]))
local deleted = 0
local PURGE_FIELDS = { 'state', 'queue', 'seq', 'ev', 'finishedAt', 'resultTtlMs' }

-- Checked against the hash: the id may name a newer task by now.
local function purge(id)
  local t = load(id, PURGE_FIELDS)
  if not t or not FINAL[t.state] then return end
  if tonumber(t.finishedAt) + tonumber(t.resultTtlMs) > NOW_N then return end

  deleted = deleted + 1
  deleteTask(t)
end

for _, group in ipairs(groupsDue) do
  for _, id in ipairs(cjson.decode(group)) do purge(id) end
end
if #groupsDue > 0 then redis.call('ZREM', DONE, unpack(groupsDue)) end

return finish({ deleted, #groupsDue })
`;
