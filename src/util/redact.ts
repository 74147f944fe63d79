/**
 * A URL with its password replaced by `***`, for logs and error messages:
 * credentials must never appear in either.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, "$1:***@");
}
