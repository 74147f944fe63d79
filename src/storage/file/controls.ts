// Queue controls: `controls/<queue>.json` per queue with controls other
// than the defaults, each written whole by a rename, and `controls/version`,
// a fixed-width counter raised in place after every change, all under
// `locks/controls`. A handle keeps the controls it last read and the version
// they go with; a claim reads the version (one `pread` on a file kept open)
// and reads the controls again only when it moved, so while no queue has
// controls a claim costs one small read more than before.
import { closeSync, mkdirSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { QueueControl } from "../contract.js";
import { createExclusive, listNames, readText, unlinkQuietly } from "./fs-sync.js";
import type { Layout } from "./layout.js";
import { type StoreLocks, withLock } from "./locks.js";
import { encodeName } from "./names.js";

const VERSION_WIDTH = 14;

/** What a control file holds: the queue's real name, which its file name may only hash. */
interface ControlFile {
  queue: string;
  control: QueueControl;
}

/** Makes `controls/version` in a store made before controls existed. */
export function prepareControlsVersion(root: string): void {
  createExclusive(join(root, "controls", "version"), formatVersion(0));
}

function formatVersion(version: number): string {
  return `${version.toString(16).padStart(VERSION_WIDTH, "0")}\n`;
}

/** Whether a control is the defaults: not paused, no limits. */
export function isDefaultControl(control: QueueControl): boolean {
  return !control.paused && control.concurrency === null && control.rateLimit === null;
}

/** One handle's view of the stored controls. */
export class QueueControls {
  private fd = -1;
  private seen = -1;
  private readonly buffer = Buffer.alloc(VERSION_WIDTH);
  private byQueueName = new Map<string, ControlFile>();

  constructor(private readonly layout: Layout) {}

  /** The controls by queue file name, read again only when the version moved. */
  current(): ReadonlyMap<string, ControlFile> {
    const version = this.version();
    if (version !== this.seen) {
      this.byQueueName = this.readAll();
      this.seen = version;
    }
    return this.byQueueName;
  }

  /** Every queue's stored controls, by queue name. */
  all(): Record<string, QueueControl> {
    const found: Record<string, QueueControl> = {};
    for (const { queue, control } of this.current().values()) found[queue] = copyControl(control);
    return found;
  }

  /**
   * Stores or removes a queue's controls under the controls lock. `seed`
   * runs with the new file in place and the version raised, under the
   * queue's own lock when the control has a limit.
   */
  set(locks: StoreLocks, queue: string, control: QueueControl | null, seed: () => void): void {
    const queueName = encodeName(queue);
    const path = this.layout.controlFile(queueName);

    withLock(locks.controls, () => {
      if (control === null || isDefaultControl(control)) {
        unlinkQuietly(path);
        this.raiseVersion();
        return;
      }

      const write = () => {
        const file: ControlFile = { queue, control: copyControl(control) };
        this.layout.writeAtomically(path, JSON.stringify(file));
        this.raiseVersion();
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

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private version(): number {
    if (this.fd < 0) this.fd = openSync(join(this.layout.controls, "version"), "r+");
    readSync(this.fd, this.buffer, 0, VERSION_WIDTH, 0);
    return Number.parseInt(this.buffer.toString("latin1"), 16);
  }

  /** The caller holds the controls lock. */
  private raiseVersion(): void {
    const next = this.version() + 1;
    writeSync(this.fd, formatVersion(next), 0, "latin1");
  }

  private readAll(): Map<string, ControlFile> {
    const found = new Map<string, ControlFile>();
    for (const name of listNames(this.layout.controls)) {
      if (!name.endsWith(".json")) continue;
      const text = readText(join(this.layout.controls, name));
      if (text === null) continue;
      found.set(name.slice(0, -".json".length), JSON.parse(text) as ControlFile);
    }
    return found;
  }
}

function copyControl(control: QueueControl): QueueControl {
  return {
    paused: control.paused,
    concurrency: control.concurrency,
    rateLimit: control.rateLimit === null ? null : { ...control.rateLimit },
  };
}
