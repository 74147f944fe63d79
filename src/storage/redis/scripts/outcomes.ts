/**
 * The ends of many tasks at once, for `getOutcome` calls gathered by the
 * outcome batcher. ARGV[1] the key prefix, ARGV[2] and ARGV[3] unused (every
 * script takes origin and now there), ARGV[4] the ids as a JSON list.
 * Answers one JSON list with, per id, null for an unknown task or [state,
 * result or null, lastError or null]: one string instead of three values per
 * task. Needs none of the prelude: it only reads.
 */
export const OUTCOMES = `
local P = ARGV[1]
local parts = {}
for i, id in ipairs(cjson.decode(ARGV[4])) do
  local v = redis.call('HMGET', P .. ':task:' .. id, 'state', 'result', 'lastError')
  if not v[1] then
    parts[i] = 'null'
  elseif v[1] == 'completed' and v[2] then
    parts[i] = '["completed",' .. cjson.encode(v[2]) .. ',' .. (v[3] or 'null') .. ']'
  else
    parts[i] = '[' .. cjson.encode(v[1]) .. ',null,' .. (v[3] or 'null') .. ']'
  end
end
return '[' .. table.concat(parts, ',') .. ']'
`;
