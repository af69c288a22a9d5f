import { describe, expect, test } from "bun:test";
import { sealPrivateKey, unsealPrivateKey } from "../../../src/controller/pki/key-seal.ts";
import { isAppError } from "../../../src/core/errors.ts";

const KEY = crypto.getRandomValues(new Uint8Array(138));
const SECRET = "correct horse battery staple";
// The smallest accepted scrypt cost keeps these tests fast; the default is exercised once below.
const CHEAP = { scryptLogN: 10 };

async function unsealError(blob: string, secret = SECRET, purpose?: string): Promise<unknown> {
  return unsealPrivateKey(blob, secret, purpose === undefined ? {} : { purpose }).catch((e: unknown) => e);
}

describe("sealed CA key", () => {
  test("round-trips under the same cluster secret", async () => {
    const blob = await sealPrivateKey(KEY, SECRET, CHEAP);
    expect(blob).toMatch(/^pxsealed:v1:scrypt:10:8:1:[\w-]+:[\w-]+:[\w-]+$/);
    expect(await unsealPrivateKey(blob, SECRET)).toEqual(KEY);
  });

  test("round-trips with the default scrypt cost", async () => {
    const blob = await sealPrivateKey(KEY, SECRET);
    expect(blob.startsWith("pxsealed:v1:scrypt:15:8:1:")).toBe(true);
    expect(await unsealPrivateKey(blob, SECRET)).toEqual(KEY);
  });

  test("uses a fresh salt and IV every time", async () => {
    const a = await sealPrivateKey(KEY, SECRET, CHEAP);
    const b = await sealPrivateKey(KEY, SECRET, CHEAP);
    expect(a).not.toBe(b);
  });

  test("refuses the wrong secret", async () => {
    const blob = await sealPrivateKey(KEY, SECRET, CHEAP);
    const error = await unsealError(blob, "wrong secret");
    expect(isAppError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toContain("wrong cluster secret");
  });

  test("detects a modified ciphertext", async () => {
    const blob = await sealPrivateKey(KEY, SECRET, CHEAP);
    const parts = blob.split(":");
    const sealed = Buffer.from(parts[8] ?? "", "base64url");
    sealed[0] = (sealed[0] ?? 0) ^ 1;
    parts[8] = sealed.toString("base64url");
    expect(isAppError(await unsealError(parts.join(":")))).toBe(true);
  });

  test("detects a modified header (cost, salt) through the associated data", async () => {
    const blob = await sealPrivateKey(KEY, SECRET, CHEAP);
    expect(isAppError(await unsealError(blob.replace(":scrypt:10:", ":scrypt:11:")))).toBe(true);
    const parts = blob.split(":");
    parts[6] = Buffer.alloc(16, 7).toString("base64url");
    expect(isAppError(await unsealError(parts.join(":")))).toBe(true);
  });

  test("binds the purpose", async () => {
    const blob = await sealPrivateKey(KEY, SECRET, { ...CHEAP, purpose: "cluster-ca-key" });
    expect(isAppError(await unsealError(blob, SECRET, "something-else"))).toBe(true);
    expect(await unsealPrivateKey(blob, SECRET, { purpose: "cluster-ca-key" })).toEqual(KEY);
  });

  test("rejects unknown versions and absurd costs with a clear message", async () => {
    const blob = await sealPrivateKey(KEY, SECRET, CHEAP);
    expect(((await unsealError(blob.replace(":v1:", ":v9:"))) as Error).message).toContain("version 'v9'");
    expect(((await unsealError(blob.replace(":scrypt:10:", ":scrypt:30:"))) as Error).message).toContain(
      "KDF parameters",
    );
    expect(((await unsealError("hello")) as Error).message).toContain("format");
  });

  test("refuses an empty secret", async () => {
    await expect(sealPrivateKey(KEY, "", CHEAP)).rejects.toThrow("must not be empty");
  });
});
