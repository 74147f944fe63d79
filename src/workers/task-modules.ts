import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError, UnrunnableTaskError } from "../errors.js";

/** A module named in the worker's `tasks` option could not be imported. */
export class TaskModuleError extends InvalidArgumentError {
  override name = "TaskModuleError";

  constructor(
    /** The module as it was given. */
    readonly module: string,
    /** Why, such as the error its import threw. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`tasks module "${module}" could not be loaded: ${reason}`, options);
  }
}

/** How modules are imported where tasks run; threads pass a fallback for TypeScript. */
export interface ImportOptions {
  /**
   * The URL of tsx's `esm/api` module, registered when a module fails to
   * load for its `.ts` extension. Node 20 does not hand a parent's `--import
   * tsx` hooks to worker threads, so a thread registers tsx itself.
   */
  tsxApi?: string | null;
}

/**
 * Imports the modules that define tasks, so that their `defineTask` calls
 * register them in this process or thread. Paths are taken relative to the
 * current directory; file URLs and package names are imported as they are.
 *
 * @throws {TaskModuleError} naming the module that failed.
 */
export async function importTaskModules(
  modules: readonly string[],
  options: ImportOptions = {},
): Promise<void> {
  for (const module of modules) {
    try {
      await importModule(toSpecifier(module), options);
    } catch (error) {
      throw new TaskModuleError(module, (error as Error).message, { cause: error });
    }
  }
}

/**
 * The form `import()` takes. Paths become file URLs: absolute ones, those
 * starting with `.`, and any naming a file that exists under the current
 * directory (`dist/tasks.js`); anything else is a package name.
 */
export function toSpecifier(module: string): string {
  if (module.startsWith("file:") || module.startsWith("node:")) return module;
  const isPath = isAbsolute(module) || module.startsWith(".") || existsSync(resolve(module));
  return isPath ? pathToFileURL(resolve(module)).href : module;
}

const recorded = new Map<string, Promise<void>>();

const MODULE_FILE = /\.(?:[cm]?js|[cm]?ts|tsx|jsx)$/;

/**
 * Imports the module a task record names, once per process or thread, so
 * that the task's definition registers. Only `file:` URLs of script files
 * are imported: a record is data, and must not pick arbitrary code to load.
 *
 * @throws {UnrunnableTaskError} when the module is refused or fails to load.
 */
export function importRecordedModule(module: string, options: ImportOptions = {}): Promise<void> {
  let loading = recorded.get(module);
  if (!loading) {
    loading = loadRecorded(module, options);
    recorded.set(module, loading);
  }
  return loading;
}

async function loadRecorded(module: string, options: ImportOptions): Promise<void> {
  let url: URL;
  try {
    url = new URL(module);
  } catch {
    throw new UnrunnableTaskError(`the task's module "${module}" is not a URL`);
  }
  if (url.protocol !== "file:" || !MODULE_FILE.test(url.pathname)) {
    throw new UnrunnableTaskError(
      `the task's module "${module}" is not a file: URL of a .js or .ts file; ` +
        "load the module with the worker's `tasks` option instead",
    );
  }

  try {
    await importModule(url.href, options);
  } catch (error) {
    throw new UnrunnableTaskError(
      `the task's module ${module} could not be loaded: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

let tsxRegistered = false;

async function importModule(specifier: string, options: ImportOptions): Promise<unknown> {
  try {
    return await import(specifier);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ERR_UNKNOWN_FILE_EXTENSION" || !options.tsxApi) throw error;

    if (!tsxRegistered) {
      const api = (await import(options.tsxApi)) as { register(): unknown };
      api.register();
      tsxRegistered = true;
    }
    // The failed import stays cached under its URL; a query makes a new one.
    return await import(`${specifier}${specifier.includes("?") ? "&" : "?"}tsx`);
  }
}
