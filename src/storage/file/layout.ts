// Where everything lives inside a store's folder. See index.ts for what each
// folder means; this file only builds paths.
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskRecord } from "../../task/record.js";
import { isFinal, isWaiting } from "../../task/state.js";
import { doneName, readyName } from "./names.js";
import { OWNER } from "./owner.js";

/** The folders made at open, beside `meta` (which is made whole, by one rename). */
export const FOLDERS = [
  "tasks",
  "ready",
  "running",
  "busy",
  "done",
  "staging",
  "gen",
  "events",
  "signals",
  "tmp",
  "blocked",
  "keys",
  "controls",
  "active",
  "rate",
  "schedules",
] as const;

// One counter for every handle of this thread: they share the owner name.
let tmpCount = 0;

/** Paths inside one store folder. */
export class Layout {
  readonly meta: string;
  readonly tasks: string;
  readonly ready: string;
  readonly running: string;
  readonly busy: string;
  readonly done: string;
  readonly staging: string;
  readonly gen: string;
  readonly events: string;
  readonly signals: string;
  readonly tmp: string;
  readonly blocked: string;
  readonly keys: string;
  readonly controls: string;
  readonly active: string;
  readonly rate: string;
  readonly schedules: string;
  readonly locks: string;

  constructor(readonly root: string) {
    this.meta = join(root, "meta");
    this.tasks = join(root, "tasks");
    this.ready = join(root, "ready");
    this.running = join(root, "running");
    this.busy = join(root, "busy");
    this.done = join(root, "done");
    this.staging = join(root, "staging");
    this.gen = join(root, "gen");
    this.events = join(root, "events");
    this.signals = join(root, "signals");
    this.tmp = join(root, "tmp");
    this.blocked = join(root, "blocked");
    this.keys = join(root, "keys");
    this.controls = join(root, "controls");
    this.active = join(root, "active");
    this.rate = join(root, "rate");
    this.schedules = join(root, "schedules");
    this.locks = join(root, "locks");
  }

  record(idName: string): string {
    return join(this.tasks, `${idName}.json`);
  }

  queueDir(queueName: string): string {
    return join(this.ready, queueName);
  }

  runningMarker(idName: string): string {
    return join(this.running, idName);
  }

  /** Where a blocked task's marker rests: outside `ready/`, so no claim ever lists it. */
  blockedMarker(idName: string): string {
    return join(this.blocked, idName);
  }

  /** The file naming the task that holds an idempotency key (keys.ts). */
  keyFile(keyName: string): string {
    return join(this.keys, keyName);
  }

  /** A queue's stored controls (controls.ts). */
  controlFile(queueName: string): string {
    return join(this.controls, `${queueName}.json`);
  }

  /** The folder of markers of a concurrency-limited queue's running tasks (flow.ts). */
  activeDir(queueName: string): string {
    return join(this.active, queueName);
  }

  /** A rate-limited queue's claims in the current window (flow.ts). */
  rateFile(queueName: string): string {
    return join(this.rate, queueName);
  }

  scheduleFile(idName: string): string {
    return join(this.schedules, `${idName}.json`);
  }

  /** The marker of a task held by this process while it changes the task. */
  busyMarker(idName: string, batch?: string): string {
    const suffix = batch === undefined ? "" : `@${batch}`;
    return join(this.busy, `${idName}@${OWNER}${suffix}`);
  }

  genFile(queueName: string): string {
    return join(this.gen, queueName);
  }

  /** Where a task's marker rests between changes: decided by its state alone. */
  restingMarker(task: TaskRecord, order: string, idName: string, queueName: string): string {
    if (isWaiting(task.state))
      return join(this.queueDir(queueName), readyName(task, order, idName));
    if (task.state === "blocked") return this.blockedMarker(idName);
    if (!isFinal(task.state)) return this.runningMarker(idName);

    const { bucket, name } = doneName((task.finishedAt ?? 0) + task.resultTtlMs, idName);
    return join(this.done, bucket, name);
  }

  /** A fresh temporary file name of this process, for write-then-rename. */
  tmpFile(): string {
    tmpCount += 1;
    return join(this.tmp, `${OWNER}~${tmpCount}`);
  }

  /** Replaces `path` with `text` in one step: readers see the old or the new file, never a part. */
  writeAtomically(path: string, text: string | Uint8Array): void {
    const tmp = this.tmpFile();
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  }
}
