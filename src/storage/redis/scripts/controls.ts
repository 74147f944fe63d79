/**
 * Lua for queue flow controls, after the prelude; part of the claim core, so
 * every claim (and every enqueue serving a waiting claim) weighs them in its
 * own atomic step.
 *
 * P:controls holds queue -> its controls as JSON, nulls left out (see
 * queue-controls.ts): `paused` true, `concurrency` a number,
 * `rateLimit` { max, intervalMs }. A queue without them has no field, and a
 * store where no queue has any has no key: the one HLEN per script that
 * finds that is all a claim pays for controls.
 *
 * P:rates holds queue -> "<window start> <claims in it>": the claims of a
 * rate-limited queue in the current window. Windows start at multiples of
 * the interval since the epoch, on the clock's time, so a window that ended
 * counts as 0 without any expiry.
 */
export const CONTROLS_CORE = `
local CONTROLS = P .. ':controls'
local RATES = P .. ':rates'

-- nil until the first look of the script; then whether any queue has controls.
local anyControls = nil
-- What controlled queues need, made on the first one found: a claim in a
-- store without controls then makes no more closures than this and the next.
local flow = nil

local function makeFlow()
  -- Per queue: its decoded controls, or false for none; per rate-limited
  -- queue: { start = window start, n = claims in it }.
  local controlsOf, rateWindows = {}, {}

  local function control(queue)
    local found = controlsOf[queue]
    if found == nil then
      local json = redis.call('HGET', CONTROLS, queue)
      found = json and cjson.decode(json) or false
      controlsOf[queue] = found
    end
    return found or nil
  end

  -- A queue's tasks in a state now: the stored count and this script's changes.
  local function countNow(queue, state)
    local field = queue .. '\\n' .. state
    local stored = tonumber(redis.call('HGET', COUNTS, field)) or 0
    return stored + (countDeltas[field] or 0)
  end

  local function rateWindow(queue, intervalMs)
    local window = rateWindows[queue]
    local start = NOW_N - NOW_N % intervalMs
    if window and window.start == start then return window end
    local stored = redis.call('HGET', RATES, queue)
    local from, n = string.match(stored or '', '^(%S+) (%S+)$')
    window = { start = start, n = tonumber(from) == start and tonumber(n) or 0 }
    rateWindows[queue] = window
    return window
  end

  -- How many of 'want' tasks the queue's controls let one claim take now.
  local function allowance(queue, c, want)
    if c.paused then return 0 end
    if c.concurrency then want = math.min(want, c.concurrency - countNow(queue, 'running')) end
    local rate = c.rateLimit
    if rate then want = math.min(want, rate.max - rateWindow(queue, rate.intervalMs).n) end
    return math.max(want, 0)
  end

  -- Counts claims against the queue's rate limit, if it has one.
  local function noteClaims(queue, c, taken)
    local rate = c.rateLimit
    if not rate then return end
    local window = rateWindow(queue, rate.intervalMs)
    window.n = window.n + taken
    redis.call('HSET', RATES, queue, num(window.start) .. ' ' .. num(window.n))
  end

  return { control = control, allowance = allowance, noteClaims = noteClaims }
end

-- The controls of a queue, or nil; with them, 'flow' is made.
local function controlOf(queue)
  if anyControls == nil then anyControls = redis.call('HLEN', CONTROLS) > 0 end
  if not anyControls then return nil end
  flow = flow or makeFlow()
  return flow.control(queue)
end
`;
