import { describe, expect, test } from "bun:test";
import { zipSync } from "fflate";
import { readTemplateArchive } from "../../../src/controller/templates/archive-reader.ts";
import { tarGz } from "../../support/tar-builder.ts";

const small = { maxTotalBytes: 1_000_000, maxEntryBytes: 300_000, maxFiles: 10 };

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected a refusal");
}

describe("template archive limits", () => {
  test("a highly compressible bomb is stopped at the size limit, not inflated whole", async () => {
    const bomb = tarGz([{ path: "zeros.bin", content: new Uint8Array(50_000_000) }]);
    expect(bomb.byteLength).toBeLessThan(200_000);
    expect(await refusal(readTemplateArchive(bomb, small))).toMatch(
      /larger than 300000 bytes|exceeds 1000000 bytes/,
    );
    const zipBomb = zipSync({ "zeros.bin": new Uint8Array(50_000_000) }, { level: 9 });
    expect(await refusal(readTemplateArchive(zipBomb, small))).toContain("larger than 300000 bytes");
  });

  test("the total and the file count are capped", async () => {
    const many = tarGz(Array.from({ length: 11 }, (_, i) => ({ path: `f${i}.txt`, content: "x" })));
    expect(await refusal(readTemplateArchive(many, small))).toContain("more than 10 files");
    const total = tarGz(
      Array.from({ length: 5 }, (_, i) => ({ path: `f${i}.bin`, content: new Uint8Array(250_000) })),
    );
    expect(await refusal(readTemplateArchive(total, small))).toContain("exceeds 1000000 bytes");
  });

  test("within limits everything comes back byte for byte", async () => {
    const payload = crypto.getRandomValues(new Uint8Array(200_000));
    const files = await readTemplateArchive(
      tarGz([
        { path: "world/level.dat", content: payload },
        { path: "a.txt", content: "a" },
      ]),
      small,
    );
    expect(files.map((f) => f.path).sort()).toEqual(["a.txt", "world/level.dat"]);
    expect(Buffer.compare(files.find((f) => f.path === "world/level.dat")!.bytes, payload)).toBe(0);
    const zipped = await readTemplateArchive(
      zipSync({ "dir/b.txt": new TextEncoder().encode("bee") }),
      small,
    );
    expect(zipped.map((f) => [f.path, new TextDecoder().decode(f.bytes)])).toEqual([["dir/b.txt", "bee"]]);
  });
});
