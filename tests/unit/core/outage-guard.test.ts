import { describe, expect, test } from "bun:test";
import { isAppError } from "../../../src/core/errors.ts";
import { guardOutages, OutageBreaker } from "../../../src/core/outage-guard.ts";

class Down extends Error {}

/** A fake adapter: `calls` counts what reached it, `down` makes every call an outage. */
class Adapter {
  calls = 0;
  down = false;
  async read(): Promise<string> {
    this.calls++;
    if (this.down) throw new Down("connection reset");
    return "value";
  }
  async ping(): Promise<void> {
    this.calls++;
    if (this.down) throw new Down("connection reset");
  }
  name(): string {
    return "sync";
  }
}

function guarded(now: () => number) {
  const adapter = new Adapter();
  const breaker = new OutageBreaker(1000, now);
  const port = guardOutages(adapter, "STORE_UNAVAILABLE", "the store", (e) => e instanceof Down, { breaker });
  return { adapter, port };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return isAppError(err) ? err.code : `plain: ${(err as Error).message}`;
  }
}

describe("guardOutages with a breaker", () => {
  test("an outage error becomes the port's code, and later calls fail without reaching the service", async () => {
    let t = 0;
    const { adapter, port } = guarded(() => t);
    expect(await port.read()).toBe("value");
    adapter.down = true;
    expect(await codeOf(port.read())).toBe("STORE_UNAVAILABLE");
    const reached = adapter.calls;
    t = 999;
    expect(await codeOf(port.read())).toBe("STORE_UNAVAILABLE");
    expect(adapter.calls).toBe(reached);
  });

  test("after the window one call goes through: success closes it, failure opens it again", async () => {
    let t = 0;
    const { adapter, port } = guarded(() => t);
    await port.read();
    adapter.down = true;
    await codeOf(port.read());
    t = 1000;
    const reached = adapter.calls;
    expect(await codeOf(port.read())).toBe("STORE_UNAVAILABLE");
    expect(adapter.calls).toBe(reached + 1);
    t = 1500;
    expect(await codeOf(port.read())).toBe("STORE_UNAVAILABLE");
    expect(adapter.calls).toBe(reached + 1);
    t = 2000;
    adapter.down = false;
    expect(await port.read()).toBe("value");
    expect(await port.read()).toBe("value");
  });

  test("probes always reach the service, and synchronous methods stay synchronous", async () => {
    const t = 0;
    const { adapter, port } = guarded(() => t);
    await port.read();
    adapter.down = true;
    await codeOf(port.read());
    const reached = adapter.calls;
    expect(await codeOf(port.ping())).toBe("STORE_UNAVAILABLE");
    expect(adapter.calls).toBe(reached + 1);
    expect(port.name()).toBe("sync");
  });

  test("other errors pass unchanged and do not open the breaker", async () => {
    const t = 0;
    const adapter = new Adapter();
    const breaker = new OutageBreaker(1000, () => t);
    const port = guardOutages(adapter, "STORE_UNAVAILABLE", "the store", () => false, { breaker });
    await port.read();
    adapter.down = true;
    expect(await codeOf(port.read())).toBe("plain: connection reset");
    expect(breaker.isOpen()).toBe(false);
  });
});

describe("guardOutages with a deadline", () => {
  test("a call that does not settle in time answers the outage code and opens the breaker", async () => {
    const breaker = new OutageBreaker(60_000);
    const hanging = {
      wait: () => new Promise<string>(() => undefined),
      bulk: () => new Promise<string>((r) => setTimeout(() => r("done"), 60)),
    };
    const port = guardOutages(hanging, "STORE_UNAVAILABLE", "the store", () => false, {
      breaker,
      deadlineMs: 20,
      unbounded: new Set(["bulk"]),
    });
    expect(await codeOf(port.wait())).toBe("STORE_UNAVAILABLE");
    expect(breaker.isOpen()).toBe(true);
    // Unbounded methods are exempt from the deadline, not from the breaker's fast failure once it
    // has learnt they are asynchronous; the first call is let through.
    expect(await port.bulk()).toBe("done");
  });
});
