// Reading redis:// URLs: what reaches the client, and errors that never show
// the password.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvalidArgumentError } from "../../src/errors.js";
import { parseRedisUrl } from "../../src/storage/redis/url.js";

describe("redis: URLs", () => {
  test("defaults: port 6379, database 0, prefix omniq", () => {
    const target = parseRedisUrl("redis://cache.internal");

    assert.deepEqual(target.connection, { host: "cache.internal", port: 6379, db: 0 });
    assert.equal(target.prefix, "omniq");
  });

  test("reads credentials, port, database and prefix; hides the password in `display`", () => {
    const target = parseRedisUrl("redis://app:s%40cret@10.0.0.5:6380/3?prefix=billing");

    assert.deepEqual(target.connection, {
      host: "10.0.0.5",
      port: 6380,
      db: 3,
      username: "app",
      password: "s@cret",
    });
    assert.equal(target.prefix, "billing");
    assert.equal(target.display, "redis://app:***@10.0.0.5:6380/3?prefix=billing");
  });

  test("rediss:// turns TLS on; an IPv6 host loses its brackets", () => {
    const target = parseRedisUrl("rediss://[::1]:6390");

    assert.deepEqual(target.connection.tls, {});
    assert.equal(target.connection.host, "::1");
  });

  test("the prefix option wins over the URL's", () => {
    assert.equal(parseRedisUrl("redis://h/0?prefix=a", "b").prefix, "b");
  });

  test("refuses other schemes, odd paths, unknown parameters and bad prefixes", () => {
    const bad = [
      "postgres://u:pw@h/db",
      "redis://u:pw@h/zero",
      "redis://u:pw@h/0?timeout=5",
      "redis://u:pw@h/0?prefix=has space",
    ];
    for (const url of bad) {
      assert.throws(
        () => parseRedisUrl(url),
        (error: unknown) => error instanceof InvalidArgumentError && !error.message.includes("pw@"),
        url,
      );
    }
  });
});
