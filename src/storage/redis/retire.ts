import type { Redis } from "ioredis";
import { StorageError } from "../../errors.js";
import { runScript, type ScriptArg } from "./connection.js";
import type { ScriptName } from "./scripts/index.js";
import type { ScriptSignals } from "./signals.js";
import type { RedisParts } from "./storage.js";

/** Waits this long for a polite QUIT before dropping a connection on close. */
const QUIT_TIMEOUT_MS = 2_000;

/**
 * Hands back tasks handed over but not taken, and withdraws this handle's
 * offers, so that nothing waits on a handle that is gone. Skipped while
 * the server is away: the leases run out and the offers lapse on their own.
 */
export async function retire(parts: RedisParts, base: ScriptArg[]): Promise<void> {
  const { handovers, commands, inbox, deadlines } = parts;
  if (commands.status !== "ready") {
    await inbox.stop(() => Promise.reject(new Error("not connected")));
    return;
  }
  const timedOut = () => new StorageError("retiring the handle timed out");
  const run = (name: ScriptName, args: ScriptArg[]) =>
    deadlines.run(runScript(commands, name, args), timedOut);
  try {
    await inbox.stop((key, mark) => deadlines.run(commands.lpush(key, mark), timedOut));
    // Withdrawing also answers what reached the inbox since: kept with the rest.
    const [, ...signals] = (await run("omniqWithdraw", [
      ...base,
      ...handovers.offeringOwners(),
    ])) as [unknown, ...ScriptSignals];
    for (const message of signals[3] ?? []) handovers.receive(message);

    const leases = handovers.takeAll();
    if (leases.length > 0) {
      const args: ScriptArg[] = [...base];
      for (const { id, token } of leases) args.push(id, token);
      await run("omniqRelease", args);
    }
  } catch {
    // Best effort: what is left behind returns when its lease runs out.
  }
}

/** Closes a client politely, or drops it when the server does not answer in time. */
export async function quit(client: Redis): Promise<void> {
  if (client.status === "end") return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, QUIT_TIMEOUT_MS);
  });
  try {
    await Promise.race([client.quit().then(() => undefined), timeout]);
  } catch {
    // Already gone: disconnecting below is all that is left to do.
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
