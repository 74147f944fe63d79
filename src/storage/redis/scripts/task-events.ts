import { PRELUDE } from "./prelude.js";

/**
 * The events of one task, oldest first, each as JSON. ARGV[4] the task id.
 * Each seq is found in the log member that holds it (the last one scored at
 * or below it) and cut out of that member's array: the text `{"seq":`
 * starts every event and cannot occur inside a JSON string, whose quotes are
 * escaped.
 */
export const TASK_EVENTS = `${PRELUDE}
local seqs = {}
local ev = redis.call('HGET', taskKey(ARGV[4]), 'ev')
if ev then
  for seq in string.gmatch(ev, '%d+') do seqs[#seqs + 1] = seq end
else
  seqs = redis.call('LRANGE', orphanEventsKey(ARGV[4]), 0, -1)
end

local found = {}
for _, seq in ipairs(seqs) do
  local member = redis.call('ZREVRANGEBYSCORE', LOG, seq, '-inf', 'LIMIT', 0, 1)[1]
  local start = member and string.find(member, '{"seq":' .. seq .. ',', 1, true)
  if start then
    local after = string.find(member, ',{"seq":', start, true)
    found[#found + 1] = string.sub(member, start, (after or #member) - 1)
  end
end
return found
`;
