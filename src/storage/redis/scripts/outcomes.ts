/**
 * The ends of many tasks at once, for `getOutcome` calls gathered by the
 * outcome batcher. ARGV[1] the key prefix, ARGV[2] and ARGV[3] unused (every
 * script takes origin and now there), then the ids. Answers, per id, its
 * state, result and lastError (each nil when absent). Needs none of the
 * prelude: it only reads.
 */
export const OUTCOMES = `
local P = ARGV[1]
local found = {}
for i = 4, #ARGV do
  local values = redis.call('HMGET', P .. ':task:' .. ARGV[i], 'state', 'result', 'lastError')
  local at = (i - 4) * 3
  found[at + 1] = values[1]
  found[at + 2] = values[2]
  found[at + 3] = values[3]
end
return found
`;
