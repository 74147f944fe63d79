import { OmniQError } from "../../errors.js";
import type { ExitInfo } from "./member.js";

/**
 * The thread or child process running a task ended before the task did: it
 * called `process.exit`, died of an uncaught error, ran out of memory or was
 * killed. The attempt fails (and retries as configured); the pool replaces
 * the thread or child.
 */
export class TaskCrashedError extends OmniQError {
  override name = "TaskCrashedError";
}

/** Says how a member ended, for the task's error and the logs. */
export function describeExit(label: string, info: ExitInfo, memoryLimitMb: number | null): string {
  if (info.outOfMemory) {
    const limit = memoryLimitMb === null ? "" : ` (memoryLimitMb ${memoryLimitMb})`;
    return `${label} ran out of memory${limit}`;
  }
  if (info.error) return `${label} died of an uncaught ${info.error.name}: ${info.error.message}`;
  if (info.signal) return `${label} was killed by ${info.signal}`;
  return `${label} exited with code ${info.code}`;
}
