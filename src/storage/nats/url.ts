// Reads a `nats://` storage URL into connection settings. The password never
// leaves this file except inside the settings handed to the client: every
// message about the URL uses its redacted form.
import { InvalidArgumentError } from "../../errors.js";
import { redactUrl } from "../../util/redact.js";

/** What a `nats://` URL says. */
export interface NatsUrlSettings {
  /** `host:port` of each server the URL lists (comma-separated hosts are allowed). */
  servers: string[];
  user?: string;
  pass?: string;
  /** A user name without a password is sent as a token. */
  token?: string;
  /** Names of streams and buckets start with it; from the `prefix` query parameter. */
  prefix?: string;
  /** The URL with its password replaced, for messages. */
  redacted: string;
}

const URL_PATTERN = /^nats:\/\/(?:([^:@/?#]*)(?::([^@/?#]*))?@)?([^/?#]+)\/?(?:\?([^#]*))?$/i;

export function parseNatsUrl(url: string): NatsUrlSettings {
  const redacted = redactUrl(url);
  const match = URL_PATTERN.exec(url);
  if (!match) {
    throw new InvalidArgumentError(
      `NATS storage URL "${redacted}" is not of the form nats://[user:pass@]host:port[?prefix=name]`,
    );
  }
  const [, user, pass, hosts = "", query = ""] = match;

  const servers = hosts.split(",").map((host) => (host.includes(":") ? host : `${host}:4222`));
  const settings: NatsUrlSettings = { servers, redacted };
  if (user && pass !== undefined) {
    settings.user = decodeURIComponent(user);
    settings.pass = decodeURIComponent(pass);
  } else if (user) {
    settings.token = decodeURIComponent(user);
  }

  const params = new URLSearchParams(query);
  const prefix = params.get("prefix");
  if (prefix !== null) settings.prefix = prefix;
  for (const key of params.keys()) {
    if (key !== "prefix") {
      throw new InvalidArgumentError(
        `NATS storage URL "${redacted}" has an unknown parameter "${key}"; the only one is "prefix"`,
      );
    }
  }
  return settings;
}
