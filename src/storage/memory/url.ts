import { InvalidArgumentError } from "../../errors.js";

const PREFIX = "memory://";

/**
 * The store name of a `memory://` URL: undefined for `memory://` (a private
 * store), `NAME` for `memory://NAME` (shared by every handle in the process
 * that gives it).
 */
export function memoryNameFromUrl(url: string): string | undefined {
  if (!url.startsWith(PREFIX)) {
    throw new InvalidArgumentError(
      `${url} is not a memory storage URL; use "memory://" or "memory://NAME"`,
    );
  }
  const name = decodeURIComponent(url.slice(PREFIX.length)).replace(/\/+$/, "");
  return name === "" ? undefined : name;
}
