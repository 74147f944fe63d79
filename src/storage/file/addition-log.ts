import { closeSync, fstatSync, openSync, readSync, statSync, writeSync } from "node:fs";

/** Read this much of a log at a time. */
const READ_BYTES = 1024 * 1024;

/**
 * A queue's addition log, `gen/<queue>`: whoever adds markers to the queue's
 * ready folder appends their names afterwards, one line each, so that other
 * handles learn what was added without listing the folder (at a million
 * waiting tasks a listing takes seconds). One append is one `write` to a
 * file opened for appending, which a local file system never interleaves
 * with another's; a reader takes only whole lines, so it never sees half a
 * name.
 *
 * `rotate` replaces a long log with an empty file by a rename. A handle sees
 * the new file by its inode, reads what is left of the old one, and goes on
 * with the new one from its start. A writer that appends to the old file in
 * the instant after the rename is not heard by readers that have already
 * moved on; listings are read whole now and then for that (ready-index.ts).
 */
export class AdditionLog {
  private writeFd = -1;
  private writeInode = -1;
  private readFd = -1;
  private readInode = -1;
  private offset = 0;
  private partial = "";
  private opened = 0;

  constructor(
    readonly path: string,
    private readonly replaceWithEmpty: (path: string) => void,
  ) {}

  /** Records that markers with these names were added. */
  append(names: readonly string[]): void {
    if (names.length === 0) return;
    if (this.writeFd < 0 || inodeOf(this.path) !== this.writeInode) {
      this.closeFd(this.writeFd);
      this.writeFd = openSync(this.path, "a");
      this.writeInode = fstatSync(this.writeFd).ino;
    }
    writeSync(this.writeFd, `${names.join("\n")}\n`);
  }

  /** The names appended since the last call (or since `skipToEnd`). */
  readNew(): string[] {
    const names: string[] = [];
    if (this.readFd >= 0 && inodeOf(this.path) !== this.readInode) {
      // Replaced: finish the old file first, then start the new one from its beginning.
      this.drain(names);
      this.closeFd(this.readFd);
      this.readFd = -1;
    }
    if (this.readFd < 0) this.openForReading(0);
    this.drain(names);
    return names;
  }

  /** Forgets what is in the log so far: the caller is about to read the folder itself. */
  skipToEnd(): void {
    this.closeFd(this.readFd);
    this.openForReading(-1);
  }

  /**
   * Raised each time this reader opens the log, so at least whenever it is
   * replaced: what a handle cached about the queue at one generation may
   * have changed by the next (controls.ts).
   */
  get generation(): number {
    return this.opened;
  }

  /** Replaces the log with an empty file now: every reader notices at its next read. */
  replace(): void {
    this.replaceWithEmpty(this.path);
  }

  /** Starts a new, empty log once this one is longer than `maxBytes`. */
  rotate(maxBytes: number): void {
    let size = 0;
    try {
      size = statSync(this.path).size;
    } catch {
      return;
    }
    if (size > maxBytes) this.replaceWithEmpty(this.path);
  }

  close(): void {
    this.closeFd(this.writeFd);
    this.closeFd(this.readFd);
    this.writeFd = -1;
    this.readFd = -1;
  }

  /** Opens the log for reading at `offset`, or at its end with -1; creates it when missing. */
  private openForReading(offset: number): void {
    this.readFd = openSync(this.path, "a+");
    const stat = fstatSync(this.readFd);
    this.readInode = stat.ino;
    this.opened += 1;
    this.offset = offset < 0 ? stat.size : offset;
    this.partial = "";
  }

  private drain(into: string[]): void {
    const size = fstatSync(this.readFd).size;
    // Cut back by someone else (an older version trimmed in place): start again at its end.
    if (size < this.offset) this.offset = size;

    const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(size - this.offset, 1)));
    while (this.offset < size) {
      const read = readSync(
        this.readFd,
        buffer,
        0,
        Math.min(buffer.length, size - this.offset),
        this.offset,
      );
      if (read === 0) break;
      this.offset += read;

      const lines = (this.partial + buffer.toString("latin1", 0, read)).split("\n");
      // The last piece has no newline yet: a write still under way, finished next time.
      this.partial = lines.pop() ?? "";
      for (const line of lines) if (line) into.push(line);
    }
  }

  private closeFd(fd: number): void {
    if (fd >= 0) closeSync(fd);
  }
}

function inodeOf(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.ino ?? -1;
}
