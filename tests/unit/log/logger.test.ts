import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { createLogger } from "../../../src/log/logger.ts";
import { redactSecrets, redactUri } from "../../../src/log/redact.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, destination };
}

describe("logging", () => {
  test("JSON lines with secrets censored wherever they sit", () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: "INFO", format: "JSON", tty: false, destination });
    log.info(
      {
        password: "hunter2",
        body: { username: "alice", password: "hunter2", newPassword: "n3w" },
        req: { headers: { authorization: "Bearer eyJabc", "user-agent": "curl" } },
        config: { security: { jwtSecret: "c2VjcmV0" } },
        token: "pxr_abc",
      },
      "login attempt",
    );
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record.msg).toBe("login attempt");
    expect(record.level).toBe(30);
    expect(record.body.username).toBe("alice");
    expect(record.req.headers["user-agent"]).toBe("curl");
    for (const secret of ["hunter2", "n3w", "eyJabc", "c2VjcmV0", "pxr_abc"])
      expect(lines[0]).not.toContain(secret);
  });

  test("levels below the configured one are dropped", () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: "WARN", format: "HUMAN", tty: false, destination });
    log.info("quiet");
    log.warn("loud");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["loud"]);
  });

  test("URIs lose their password; audit summaries lose secret fields", () => {
    expect(redactUri("mongodb://ops:s3cret@db1:27017,db2/prexor?tls=true")).toBe(
      "mongodb://ops:***@db1:27017,db2/prexor?tls=true",
    );
    expect(redactUri("redis://:pw@cache:6379/0")).toBe("redis://:***@cache:6379/0");
    expect(redactUri("redis://cache:6379")).toBe("redis://cache:6379");
    const cyclic: Record<string, unknown> = { name: "g", apiToken: "t0k", nested: { clientSecret: "x" } };
    cyclic.self = cyclic;
    expect(redactSecrets(cyclic)).toEqual({
      name: "g",
      apiToken: "***",
      nested: { clientSecret: "***" },
      self: "[…]",
    });
  });
});
