import { describe, expect, test } from "bun:test";
import { pinnedSpec } from "../../../src/controller/deployments/group-pins.ts";
import type { GroupSpec } from "../../../src/core/groups/group-schema.ts";

const spec = (fields: Record<string, unknown>) => ({ name: "lobby", ...fields }) as unknown as GroupSpec;

describe("pinnedSpec", () => {
  test("an older revision keeps its own settings where the group still matches the latest revision", () => {
    const r1 = spec({ memoryMb: 512, env: { STAGE: "a" } });
    const r2 = spec({ memoryMb: 1024, env: { STAGE: "b" } });
    expect(pinnedSpec(r2, r1, r2)).toEqual(r1);
  });

  test("a plain edit made after the latest revision applies to every revision", () => {
    const r1 = spec({ memoryMb: 512, env: { STAGE: "a" }, maxPlayers: 20 });
    const r2 = spec({ memoryMb: 1024, env: { STAGE: "b" }, maxPlayers: 20 });
    const now = spec({ memoryMb: 1024, env: { STAGE: "b" }, maxPlayers: 50 });
    expect(pinnedSpec(now, r1, r2)).toEqual(spec({ memoryMb: 512, env: { STAGE: "a" }, maxPlayers: 50 }));
  });

  test("a field removed since the latest revision is removed for every revision", () => {
    const r1 = spec({ memoryMb: 512, fallbackGroup: "hub" });
    const r2 = spec({ memoryMb: 1024, fallbackGroup: "hub" });
    const now = spec({ memoryMb: 1024 });
    expect(pinnedSpec(now, r1, r2)).toEqual(spec({ memoryMb: 512 }));
  });
});
