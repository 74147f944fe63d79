// Queue controls: `controls/<queue>.json` per queue with controls other
// than the defaults, each written whole by a rename under `locks/controls`.
//
// A claim must see a change at once, in every process, yet a claim from a
// queue without controls should not pay a read for it. So each change also
// replaces the queue's addition log (`gen/<queue>`, see addition-log.ts),
// which every claim already looks at to bring its listing up to date: a
// handle keeps each queue's control with the listing's generation it was
// read at, and reads the file again only when the generation moved. The
// control is written before the log is replaced, so a claim that sees the
// new log reads the new control. (Like any replacement of the log, it may
// hide a marker added at that very instant from other handles until their
// next full listing, as ready-index.ts describes.)
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { QueueControl } from "../contract.js";
import { listNames, readText, unlinkQuietly } from "./fs-sync.js";
import type { Layout } from "./layout.js";
import { type StoreLocks, withLock } from "./locks.js";
import { encodeName } from "./names.js";
import type { ReadyIndex } from "./ready-index.js";

/** What a control file holds: the queue's real name, which its file name may only hash. */
interface ControlFile {
  queue: string;
  control: QueueControl;
}

/** A queue's control as a handle last read it, and the listing generation it was read at. */
interface Cached {
  generation: number;
  control: QueueControl | undefined;
}

/** Whether a control is the defaults: not paused, no limits. */
export function isDefaultControl(control: QueueControl): boolean {
  return !control.paused && control.concurrency === null && control.rateLimit === null;
}

/** One handle's view of the stored controls. */
export class QueueControls {
  private readonly cached = new Map<string, Cached>();

  constructor(
    private readonly layout: Layout,
    private readonly ready: ReadyIndex,
  ) {}

  /**
   * A queue's control (by its file name), or undefined for the defaults.
   * `generation` is its listing's, just brought up to date by the claim.
   */
  forQueue(queueName: string, generation: number): QueueControl | undefined {
    const cached = this.cached.get(queueName);
    if (cached?.generation === generation) return cached.control;

    const control = readControl(this.layout.controlFile(queueName))?.control;
    this.cached.set(queueName, { generation, control });
    return control;
  }

  /** Every queue's stored controls, by queue name, read from the files. */
  all(): Record<string, QueueControl> {
    const found: Record<string, QueueControl> = {};
    for (const name of listNames(this.layout.controls)) {
      if (!name.endsWith(".json")) continue;
      const file = readControl(join(this.layout.controls, name));
      if (file) found[file.queue] = copyControl(file.control);
    }
    return found;
  }

  /**
   * Stores or removes a queue's controls under the controls lock. `seed`
   * runs once the new control is visible, under the queue's own lock, when
   * the control limits concurrency.
   */
  set(locks: StoreLocks, queue: string, control: QueueControl | null, seed: () => void): void {
    const queueName = encodeName(queue);
    const path = this.layout.controlFile(queueName);

    withLock(locks.controls, () => {
      if (control === null || isDefaultControl(control)) {
        unlinkQuietly(path);
        this.ready.renew(queueName);
        return;
      }

      const write = () => {
        const file: ControlFile = { queue, control: copyControl(control) };
        this.layout.writeAtomically(path, JSON.stringify(file));
        this.ready.renew(queueName);
        if (control.concurrency !== null) seed();
      };
      if (control.concurrency === null && control.rateLimit === null) {
        write();
        return;
      }

      locks.ensureQueue(queueName);
      mkdirSync(this.layout.activeDir(queueName), { recursive: true });
      withLock(locks.queue(queueName), write);
    });
  }
}

function readControl(path: string): ControlFile | null {
  const text = readText(path);
  return text === null ? null : (JSON.parse(text) as ControlFile);
}

function copyControl(control: QueueControl): QueueControl {
  return {
    paused: control.paused,
    concurrency: control.concurrency,
    rateLimit: control.rateLimit === null ? null : { ...control.rateLimit },
  };
}
