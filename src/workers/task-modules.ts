import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError } from "../errors.js";

/**
 * Imports the modules that define tasks, so that their `defineTask` calls
 * register them in this process. Paths are taken relative to the current
 * directory; file URLs and package names are imported as they are.
 */
export async function importTaskModules(modules: readonly string[]): Promise<void> {
  for (const module of modules) {
    const specifier = toSpecifier(module);
    try {
      await import(specifier);
    } catch (error) {
      throw new InvalidArgumentError(
        `tasks module "${module}" could not be loaded: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

function toSpecifier(module: string): string {
  if (module.startsWith("file:") || module.startsWith("node:")) return module;
  if (isAbsolute(module) || module.startsWith(".")) return pathToFileURL(resolve(module)).href;
  return module;
}
