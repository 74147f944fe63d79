import { InvalidArgumentError } from "../../errors.js";

/**
 * Where a PostgreSQL store lives: the server to connect to and the schema that holds omniq's
 * tables.
 */
export interface PostgresTarget {
  /** The URL handed to `pg`, without omniq's own query parameters. */
  connectionString: string;
  schema: string;
  /** The URL with its password replaced, for messages. */
  display: string;
  /** The password, if the URL has one, so that messages can be scrubbed of it. */
  password: string | null;
}

/** The schema used when neither the URL nor the options name one. */
export const DEFAULT_SCHEMA = "omniq";

// The schema name goes into SQL text and into a LISTEN channel name (at most
// 63 bytes with its prefix), so only plain identifiers of a bounded length.
const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * Reads `postgres://user[:password]@host[:port]/database[?schema=name]`
 * (`postgresql://` too). The `schema` option wins over the URL's `schema`
 * parameter; other parameters (such as `sslmode`) go to `pg` unchanged.
 */
export function parsePostgresUrl(url: string, schemaOption?: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new InvalidArgumentError(
      `storage URL ${redactUrl(url)} is not a valid URL; use postgres://user:password@host:5432/database`,
      { cause },
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new InvalidArgumentError(
      `storage URL ${redactUrl(url)} is not a PostgreSQL URL; use postgres://user:password@host:5432/database`,
    );
  }

  const schema = checkSchema(schemaOption ?? parsed.searchParams.get("schema") ?? DEFAULT_SCHEMA);
  parsed.searchParams.delete("schema");

  const password = parsed.password === "" ? null : decodeURIComponent(parsed.password);
  return {
    connectionString: parsed.toString(),
    schema,
    display: redactUrl(parsed.toString()),
    password,
  };
}

/** Returns `schema` if it is a name omniq can splice into SQL; throws otherwise. */
export function checkSchema(schema: string): string {
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new InvalidArgumentError(
      `PostgreSQL schema ${JSON.stringify(schema)} is not allowed: use letters, digits and _ (not first), at most 48 characters`,
    );
  }
  return schema;
}

/**
 * The URL with any password replaced by `***`; a string that is no URL is cut down to its scheme.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    // Not parseable: never echo it, it may hold a password in a shape URL() rejects.
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? "";
    return `${scheme}//<unparseable URL>`;
  }
}
