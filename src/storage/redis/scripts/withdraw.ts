import { CLAIM_CORE } from "./claim-core.js";
import { OFFERS } from "./offers.js";
import { PRELUDE } from "./prelude.js";

/**
 * Withdraws the offers of the owners in ARGV[4..] and answers what waits in
 * this handle's inbox, as handovers: for a handle that closes.
 */
export const WITHDRAW = `${PRELUDE}${CLAIM_CORE}${OFFERS}
for i = 4, #ARGV do withdrawOffer(ARGV[i]) end
drainInbox()
return finish(0)
`;
