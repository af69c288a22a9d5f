import { describe, expect, test } from "bun:test";
import { normalizeSerialHex, randomSerialHex } from "../../../src/controller/pki/serial.ts";

describe("certificate serials", () => {
  test("are 32 lowercase hex digits with the top bit set", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const serial = randomSerialHex();
      expect(serial).toMatch(/^[89a-f][0-9a-f]{31}$/);
      seen.add(serial);
    }
    expect(seen.size).toBe(200);
  });

  test("use the injected randomness", () => {
    expect(randomSerialHex((bytes) => bytes.fill(0))).toBe(`80${"00".repeat(15)}`);
  });

  test("normalise the forms other tools print", () => {
    expect(normalizeSerialHex("00:8F:AB")).toBe("8fab");
    expect(normalizeSerialHex("D8145C59")).toBe("d8145c59");
    expect(normalizeSerialHex("0000")).toBe("00");
  });
});
