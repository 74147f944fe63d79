import { CONTROLS_CORE } from "./controls.js";
import { PRELUDE } from "./prelude.js";

/**
 * Sets a queue's flow controls (see controls.ts). ARGV[4] the queue, ARGV[5]
 * its controls as JSON, or empty to remove them. The queue's rate window
 * stays: a limit set again within it goes on counting from there. Sends a
 * ready signal for the queue either way: a change may let its tasks run
 * again.
 */
export const SET_CONTROL = `${PRELUDE}${CONTROLS_CORE}
local queue, control = ARGV[4], ARGV[5]
if control == '' then
  redis.call('HDEL', CONTROLS, queue)
else
  redis.call('HSET', CONTROLS, queue, control)
end
signalReady(queue)
return finish(0)
`;
