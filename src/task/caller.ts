import { pathToFileURL } from "node:url";

/**
 * The file URL of the module that called `fn`, read from a structured stack
 * trace. Workers in other threads and processes import this module to find
 * the task again. Null when the stack has no file (code run with `eval`).
 */
export function callerModule(fn: (...args: never[]) => unknown): string | null {
  const original = Error.prepareStackTrace;
  try {
    // Ask V8 for call-site objects instead of text, for this one capture only.
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, fn);
    const file = holder.stack?.[0]?.getFileName();
    if (!file) return null;
    return file.startsWith("file:") ? file : pathToFileURL(file).href;
  } finally {
    Error.prepareStackTrace = original;
  }
}
