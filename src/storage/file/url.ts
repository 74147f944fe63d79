import { isAbsolute, resolve } from "node:path";
import { InvalidArgumentError } from "../../errors.js";

const PREFIX = "file://";

/**
 * Turns a `file://` URL into the absolute path of a store folder:
 * `file:///abs/dir` is `/abs/dir`; `file://./dir` and `file://dir` are
 * relative to the working directory. Percent-escapes are decoded; a query
 * or fragment is refused rather than becoming part of a folder name.
 */
export function fileRootFromUrl(url: string): string {
  if (!url.startsWith(PREFIX)) {
    throw new InvalidArgumentError(
      `storage URL ${JSON.stringify(url)} is not a files URL; use file:///absolute/dir or file://./relative/dir`,
    );
  }

  const rest = url.slice(PREFIX.length);
  if (rest.includes("?") || rest.includes("#")) {
    throw new InvalidArgumentError(
      `storage URL ${JSON.stringify(url)}: files URLs take no query or fragment; give only the folder`,
    );
  }

  let path: string;
  try {
    path = decodeURIComponent(rest);
  } catch (cause) {
    throw new InvalidArgumentError(`storage URL ${JSON.stringify(url)} has a bad percent-escape`, {
      cause,
    });
  }

  if (path === "" || path === "/") {
    throw new InvalidArgumentError(
      `storage URL ${JSON.stringify(url)} names no folder; use file:///absolute/dir or file://./relative/dir`,
    );
  }
  return isAbsolute(path) ? resolve(path) : resolve(process.cwd(), path);
}
