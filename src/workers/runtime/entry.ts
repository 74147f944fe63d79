/**
 * Where the runtime's entry files are. They sit beside this module: `.ts`
 * when omniq runs from its sources (tests, tsx), `.js` once built.
 */
export function runtimeEntry(name: "thread-main" | "child-main"): URL {
  const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`./${name}${extension}`, import.meta.url);
}

/**
 * The URL of tsx's API module when tsx is installed, so that a thread can
 * load TypeScript (see `ImportOptions.tsxApi`); null otherwise.
 */
export function findTsxApi(): string | null {
  try {
    return import.meta.resolve("tsx/esm/api");
  } catch {
    return null;
  }
}
