// Who holds a marker or a lock: this process and thread, written into file
// names so that another process can tell a holder that died (kill -9) from
// one that is busy, and take over what it left.
import { readFileSync, readlinkSync } from "node:fs";
import { threadId } from "node:worker_threads";

/**
 * When a process started, in clock ticks since boot, from /proc (Linux).
 * With the pid it names a process even after the pid is reused by another
 * one (a restarted container starts its pids again from 1). Null where
 * /proc is missing.
 */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces; the fields after it do not.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * The pid namespace this process runs in (Linux): pids of processes in
 * other containers that share the store folder mean nothing here.
 */
function pidNamespace(): string | null {
  try {
    const link = readlinkSync("/proc/self/ns/pid");
    return /\[(\d+)\]/.exec(link)?.[1] ?? null;
  } catch {
    return null;
  }
}

const OWN_START = startTimeOf(process.pid) ?? "x";
const OWN_NAMESPACE = pidNamespace() ?? "x";

/**
 * This process and thread, as `<pid>.<start time>.<pid namespace>-<thread id>`:
 * no `@`, `~` or `.json` in it.
 */
export const OWNER = `${process.pid}.${OWN_START}.${OWN_NAMESPACE}-${threadId}`;

/** A number that differs between owners, to order batches that read the same enqueue stamp. */
export const OWNER_TIE = process.pid * 4096 + (threadId % 4096);

/**
 * Whether the owner named in a file name may still be running. Owners this
 * process cannot judge count as alive, so nothing is taken from a holder by
 * mistake: names of unknown shape, processes of another pid namespace
 * (another container), and other threads of this process.
 */
export function ownerAlive(owner: string): boolean {
  const match = /^(\d+)\.([^.-]+)\.([^.-]+)-\d+$/.exec(owner);
  if (!match) return true;
  const pid = Number(match[1]);
  const start = match[2] as string;
  if (match[3] !== OWN_NAMESPACE) return true;

  if (pid === process.pid) return start === OWN_START || start === "x";

  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  if (start === "x") return true;

  const current = startTimeOf(pid);
  return current === null || current === start;
}

/** Caches `ownerAlive` answers for the length of one sweep over many files. */
export function livenessCache(): (owner: string) => boolean {
  const known = new Map<string, boolean>();
  return (owner) => {
    let alive = known.get(owner);
    if (alive === undefined) {
      alive = ownerAlive(owner);
      known.set(owner, alive);
    }
    return alive;
  };
}
