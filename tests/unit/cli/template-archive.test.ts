import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../../../src/cli/errors.ts";
import { formatBytes, progressLine, uploadWithProgress } from "../../../src/cli/output/progress.ts";
import { packDirectory, safeEntryPath, unpackArchive } from "../../../src/cli/template-archive.ts";
import { tempDir } from "../../support/adapters.ts";

describe("template archives", () => {
  test("a directory packs to tar.gz and unpacks to the same files; links are skipped by name", async () => {
    const src = tempDir();
    mkdirSync(join(src, "plugins/cfg"), { recursive: true });
    writeFileSync(join(src, "server.properties"), "motd=hi\n");
    writeFileSync(join(src, "plugins/cfg/a.yml"), "a: 1\n");
    symlinkSync("/etc/passwd", join(src, "passwd"));
    const pack = await packDirectory(src);
    expect(pack).toMatchObject({ fileCount: 2, skipped: ["passwd"] });
    expect([pack.bytes[0], pack.bytes[1]]).toEqual([0x1f, 0x8b]);
    const out = tempDir();
    expect(await unpackArchive(pack.bytes, out)).toBe(2);
    expect(readFileSync(join(out, "plugins/cfg/a.yml"), "utf8")).toBe("a: 1\n");
  });

  test("entries that would escape the directory refuse the whole archive", async () => {
    expect(safeEntryPath("a/./b.txt")).toBe("a/b.txt");
    for (const bad of ["../x", "/etc/x", "a/../../x", "..", "a\\b"])
      expect(safeEntryPath(bad)).toBeUndefined();
    const evil = new Bun.Archive({ "ok.txt": "x", "../evil.txt": "y" }, { compress: "gzip" });
    const out = tempDir();
    const err = await unpackArchive(new Uint8Array(await (await evil.blob()).arrayBuffer()), out).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toContain('unsafe path "../evil.txt"');
  });

  test("an empty or missing directory is a usage error", async () => {
    expect(await packDirectory(tempDir()).catch((e) => e.message)).toContain("no files to push");
    expect(await packDirectory("/nonexistent/dir").catch((e) => e.message)).toContain("no such directory");
  });
});

describe("upload progress", () => {
  test("the bar shows percent, sizes and rate", () => {
    expect(progressLine(512 * 1024, 1024 * 1024, 1000)).toBe(
      `[==============>               ]  50%  512.0 KiB / 1.0 MiB  512.0 KiB/s`,
    );
    expect(formatBytes(999)).toBe("999 B");
  });

  test("small uploads and non-terminals get the bytes as they are; large ones on a TTY stream everything", async () => {
    const small = new Uint8Array(10);
    expect(uploadWithProgress(small, { isTTY: true, write: () => true })).toBe(small);
    const big = new Uint8Array(3 * 1024 * 1024).fill(7);
    expect(uploadWithProgress(big, { isTTY: false, write: () => true })).toBe(big);
    const drawn: string[] = [];
    const body = uploadWithProgress(big, { isTTY: true, write: (t: string) => drawn.push(t) });
    expect(body).toBeInstanceOf(ReadableStream);
    const back = new Uint8Array(await new Response(body as ReadableStream).arrayBuffer());
    expect(back.length).toBe(big.length);
    expect(drawn.at(-1)).toContain("100%");
  });
});
