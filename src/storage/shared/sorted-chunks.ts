/** Items per chunk at most; a fuller chunk is split in two. */
const MAX_CHUNK = 1_024;

/**
 * A sorted list kept as a row of small sorted arrays. Adding or removing an
 * item anywhere moves at most one chunk's items and the row of chunks, not
 * the whole list: a plain array of a million entries copies all of them on
 * every `shift` (V8 cannot trim the front of an array that large in place),
 * which cost about a millisecond per claimed task at that depth.
 *
 * `compare` must order every two distinct items strictly (no ties), so that
 * an item's place is also how it is found again.
 */
export class SortedChunks<T> {
  private chunks: T[][] = [];
  private count = 0;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  /** Adds `item`; false, and nothing added, when an item that sorts equal is there already. */
  add(item: T): boolean {
    const last = this.chunks.at(-1);
    const order = last ? this.compare(last.at(-1) as T, item) : -1;
    // Most items arrive in order (due now, newest last): appending is the common case.
    if (order < 0) {
      if (!last || last.length >= MAX_CHUNK) this.chunks.push([item]);
      else last.push(item);
      this.count += 1;
      return true;
    }
    if (order === 0) return false;

    const at = this.chunkFor(item);
    const chunk = this.chunks[at] as T[];
    const place = this.lowerBound(chunk, item);
    if (place < chunk.length && this.compare(chunk[place] as T, item) === 0) return false;

    chunk.splice(place, 0, item);
    if (chunk.length > MAX_CHUNK) {
      this.chunks.splice(at + 1, 0, chunk.splice(chunk.length >> 1));
    }
    this.count += 1;
    return true;
  }

  /** The first item in order, or undefined when empty. */
  first(): T | undefined {
    return this.chunks[0]?.[0];
  }

  /** Removes and returns the first item. */
  shift(): T | undefined {
    const chunk = this.chunks[0];
    if (!chunk) return undefined;
    const item = chunk.shift();
    if (chunk.length === 0) this.chunks.shift();
    this.count -= 1;
    return item;
  }

  /** Removes the item that sorts where `item` does, if `same` says it is that one. */
  remove(item: T, same: (stored: T) => boolean): boolean {
    if (this.chunks.length === 0) return false;
    const at = this.chunkFor(item);
    const chunk = this.chunks[at] as T[];
    const place = this.lowerBound(chunk, item);
    const stored = chunk[place];
    if (stored === undefined || !same(stored)) return false;

    if (place === 0) chunk.shift();
    else chunk.splice(place, 1);
    if (chunk.length === 0) this.chunks.splice(at, 1);
    this.count -= 1;
    return true;
  }

  /** Every item in order. Do not add or remove while iterating. */
  *[Symbol.iterator](): Generator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** The items that do not sort before `item`, in order. Do not add or remove while iterating. */
  *from(item: T): Generator<T> {
    if (this.chunks.length === 0) return;
    const first = this.chunkFor(item);
    let place = this.lowerBound(this.chunks[first] as T[], item);
    for (let at = first; at < this.chunks.length; at += 1) {
      const chunk = this.chunks[at] as T[];
      for (; place < chunk.length; place += 1) yield chunk[place] as T;
      place = 0;
    }
  }

  /** The last chunk whose first item does not sort after `item` (or the first chunk). */
  private chunkFor(item: T): number {
    let low = 0;
    let high = this.chunks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      const first = (this.chunks[mid] as T[])[0] as T;
      if (this.compare(first, item) <= 0) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** First place in `chunk` whose item does not sort before `item`. */
  private lowerBound(chunk: readonly T[], item: T): number {
    let low = 0;
    let high = chunk.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.compare(chunk[mid] as T, item) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
