import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs";

/**
 * A counter shared by processes without a lock: a file opened for appending
 * whose size is the count. An append of one byte is atomic on a local file
 * system, so every bump is counted once; the size read back right after a
 * bump is at least that bump's own count, and a bump that starts after
 * another has returned always reads a greater size than that one did.
 *
 * The file grows by one byte per bump; `reset` cuts it back to nothing,
 * after which counts repeat: users compare counts only for change.
 */
export class AppendCounter {
  private fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, "a");
  }

  /** Adds one and answers the count just after. */
  bump(): number {
    writeSync(this.fd, "+");
    return this.peek();
  }

  /** The count now, without changing it. */
  peek(): number {
    return fstatSync(this.fd).size;
  }

  reset(): void {
    ftruncateSync(this.fd, 0);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
