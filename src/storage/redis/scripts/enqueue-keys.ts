/** Real ms the answer of a batch that dropped tasks is kept, for a resend of the same batch. */
export const BATCH_ANSWER_TTL_MS = 600_000;

/**
 * Lua for the enqueue script (after the prelude): idempotency keys and
 * dependencies. The script's arguments end, after the tasks, with an
 * optional JSON list of [index, key or null, blocked (0 or 1)] for the tasks
 * that have a key or dependencies; a batch of plain tasks sends none, and
 * pays for none of this but one look at #ARGV.
 *
 * `readExtras(json)` answers a table by task index (from 0) of { key,
 * blocked }, or nil. `heldKeys(extras, idOf, n)` answers, by index, the id
 * of the task already holding each task's key (stored and not final, or
 * earlier in the batch), and the answer's flat list of [index, holder id]
 * pairs. `resentAnswer(batch)` answers what a batch with that id answered
 * when it dropped tasks, and `keepAnswer` keeps it: the client sends a
 * script again when its reply was lost in a reconnect.
 */
export const ENQUEUE_KEYS = `
local FINAL_STATE = { completed = true, failed = true, cancelled = true, expired = true }

local function batchKey(batch) return P .. ':batch:' .. batch end

local function readExtras(json)
  if not json then return nil end
  local extras = {}
  for _, entry in ipairs(cjson.decode(json)) do
    local key = entry[2]
    if key == cjson.null then key = nil end
    extras[entry[1]] = { key = key, blocked = entry[3] == 1 }
  end
  return extras
end

local function resentAnswer(batch)
  local answer = redis.call('GET', batchKey(batch))
  if answer then return cjson.decode(answer) end
  return nil
end

local function keepAnswer(batch, dropped)
  if #dropped == 0 then return end
  redis.call('SET', batchKey(batch), cjson.encode(dropped), 'PX', ${BATCH_ANSWER_TTL_MS})
end

-- A key names its holder while the holder is not final; the check of its
-- state also covers a holder deleted or finished without a release.
local function storedHolder(key)
  local id = redis.call('HGET', KEYS_HELD, key)
  if not id then return nil end
  local state = redis.call('HGET', taskKey(id), 'state')
  if state and not FINAL_STATE[state] then return id end
  return nil
end

local function heldKeys(extras, idOf, n)
  local held, dropped, inBatch = {}, {}, {}
  for i = 0, n - 1 do
    local key = extras[i] and extras[i].key
    if key then
      local holder = inBatch[key] or storedHolder(key)
      if holder then
        held[i] = holder
        dropped[#dropped + 1] = i
        dropped[#dropped + 1] = holder
      else
        inBatch[key] = idOf(i)
      end
    end
  end
  return held, dropped
end
`;
