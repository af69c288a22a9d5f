import { describe, expect, test } from "bun:test";
import { EndpointRotation } from "../../../src/daemon/link/endpoint-rotation.ts";

describe("EndpointRotation", () => {
  test("every break moves on to the next endpoint, wrapping around", () => {
    const r = new EndpointRotation(["a:1", "b:1", "c:1"], 30_000, () => 0);
    const seen = [r.current()];
    for (let k = 0; k < 3; k++) {
      r.ended(false, false);
      seen.push(r.current());
    }
    expect(seen).toEqual(["a:1", "b:1", "c:1", "a:1"]);
  });

  test("a silent endpoint is passed over while others are not, and tried again after the quarantine", () => {
    let t = 0;
    const r = new EndpointRotation(["a:1", "b:1", "c:1"], 30_000, () => t);
    r.ended(true, true); // a went silent
    expect(r.current()).toBe("b:1");
    r.ended(false, false); // b refused (for instance: the node is still owned elsewhere)
    expect(r.current()).toBe("c:1");
    r.ended(false, false);
    expect(r.current()).toBe("b:1"); // a skipped
    t = 30_000;
    r.ended(false, false);
    expect(r.current()).toBe("c:1");
    r.ended(false, false);
    expect(r.current()).toBe("a:1"); // quarantine over
  });

  test("when every endpoint is silent the next one is tried anyway", () => {
    const r = new EndpointRotation(["a:1", "b:1"], 30_000, () => 0);
    r.ended(true, false);
    r.ended(true, false);
    expect(r.current()).toBe("a:1");
    r.ended(true, false);
    expect(r.current()).toBe("b:1");
  });

  test("an established session clears its endpoint's silence; learned addresses are appended once", () => {
    const r = new EndpointRotation(["a:1", "a:1", ""], 30_000, () => 0);
    expect(r.endpoints).toEqual(["a:1"]);
    expect(r.learn(["b:1", "a:1", "b:1", ""])).toEqual(["b:1"]);
    r.ended(true, false); // a silent
    expect(r.current()).toBe("b:1");
    r.connected();
    r.ended(false, true);
    expect(r.current()).toBe("b:1"); // a still quarantined, b healthy: stays on b
  });

  test("no endpoint at all is a configuration error, not a crash later", () => {
    expect(() => new EndpointRotation([], 1000, () => 0)).toThrow("no controller endpoint");
  });
});
