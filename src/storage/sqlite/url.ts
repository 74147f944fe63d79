import { isAbsolute, resolve } from "node:path";
import { InvalidArgumentError } from "../../errors.js";

const PREFIX = "sqlite://";

/**
 * Turns a `sqlite://` URL into an absolute file path.
 *
 * - `sqlite:///abs/path/omniq.db` is the absolute path `/abs/path/omniq.db`;
 * - `sqlite://./data/omniq.db` and `sqlite://data/omniq.db` are relative to
 *   the working directory of the process.
 *
 * Percent-escapes are decoded so a path may hold spaces (`%20`). A query
 * string or fragment is not part of the path and is refused rather than
 * silently becoming part of a file name.
 */
export function sqlitePathFromUrl(url: string): string {
  if (!url.startsWith(PREFIX)) {
    throw new InvalidArgumentError(
      `storage URL ${JSON.stringify(url)} is not a SQLite URL; use sqlite:///absolute/path.db or sqlite://relative/path.db`,
    );
  }

  const rest = url.slice(PREFIX.length);
  if (rest.includes("?") || rest.includes("#")) {
    throw new InvalidArgumentError(
      `storage URL ${JSON.stringify(url)}: SQLite URLs take no query or fragment; give only the file path`,
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

  if (path === "" || path === "/" || path.endsWith("/")) {
    throw new InvalidArgumentError(
      `storage URL ${JSON.stringify(url)} names no file; use sqlite:///absolute/path.db or sqlite://relative/path.db`,
    );
  }
  return isAbsolute(path) ? resolve(path) : resolve(process.cwd(), path);
}
