import type { FromRuntime, ToRuntime } from "../runtime/protocol.js";

/** How a thread or child process ended. */
export interface ExitInfo {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The uncaught error that ended it, when known. */
  error: Error | null;
  /** It went past its heap limit. */
  outOfMemory: boolean;
}

/** What a member reports to its pool. */
export interface MemberEvents {
  message(message: FromRuntime): void;
  /** Called once, when it has ended for whatever reason. */
  exit(info: ExitInfo): void;
}

/** One thread or child process of a pool, as the pool drives it. */
export interface Member {
  /** Such as "thread 4" or "child process 1234", for logs and errors. */
  readonly label: string;
  send(message: ToRuntime): void;
  /** Lets it end on its own terms: for an idle member being recycled. */
  retire(): void;
  /** Ends it now, whatever it is doing. */
  kill(): void;
}

/** Starts one member. */
export type SpawnMember = (events: MemberEvents) => Member;
