import { PRELUDE } from "./prelude.js";

/**
 * Log members that may hold events after a seq: the member holding the seq
 * itself (its later events count) and up to `limit` members after it.
 * ARGV[4] the seq, ARGV[5] the limit. The caller drops what is not after.
 */
export const EVENTS_SINCE = `${PRELUDE}
local after, limit = ARGV[4], tonumber(ARGV[5])
local members = redis.call('ZREVRANGEBYSCORE', LOG, after, '-inf', 'LIMIT', 0, 1)
local later = redis.call('ZRANGEBYSCORE', LOG, '(' .. after, '+inf', 'LIMIT', 0, limit)
for _, member in ipairs(later) do members[#members + 1] = member end
return members
`;
