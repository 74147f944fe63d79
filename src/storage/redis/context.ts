import type { Redis } from "ioredis";
import type { ScriptArg } from "./connection.js";
import type { WriteScript } from "./maintain.js";

/** What the operations outside storage.ts run on: the handle's scripts and client. */
export interface ScriptContext {
  /** Runs a writing script, delivering its signals, and answers its result. */
  write: WriteScript;
  /** Prefix, origin and now: the arguments every script starts with. */
  base(): ScriptArg[];
  /** The commands connection, for plain reads. */
  client: Redis;
  /** The key prefix, for those reads. */
  prefix: string;
}
