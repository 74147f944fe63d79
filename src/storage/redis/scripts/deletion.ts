/**
 * Lua for the scripts that delete finished tasks (maintain's purge of
 * expired results, and `purge`), after the prelude: kept out of the
 * prelude, which every claim runs.
 */
export const DELETION = `
local FINAL = { completed = true, failed = true, cancelled = true, expired = true }

-- Deletes a final task with its result; its events stay, under the event
-- time-to-live: the list of their seqs moves from the hash to a key of its
-- own. Needs the task's state, queue and ev.
local function deleteTask(t)
  count(t.queue, t.state, -1)
  redis.call('ZREM', allKey(t.queue), t.id)
  if INDEXED[t.state] then redis.call('ZREM', stateKey(t.queue, t.state), t.id) end

  local seqs = {}
  for seq in string.gmatch(t.ev, '%d+') do seqs[#seqs + 1] = seq end
  if #seqs > 0 then redis.call('RPUSH', orphanEventsKey(t.id), unpack(seqs)) end
  redis.call('DEL', t.key)
end
`;
