import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readInstanceFile, walkInstanceDir } from "../../../src/daemon/supervisor/instance-files.ts";
import { FileAccessStatus } from "../../../src/wire/index.ts";
import { tempDir } from "../../support/adapters.ts";

const base = tempDir("prexor-instance-files-");
const root = join(base, "lobby-1");
const outside = join(base, "secret.txt");
mkdirSync(join(root, "plugins/conf"), { recursive: true });
writeFileSync(join(root, "server.properties"), "server-port=25565\n");
writeFileSync(join(root, "plugins/conf/a.yml"), "a: 1\n");
writeFileSync(join(root, "big.txt"), "x".repeat(100_000));
writeFileSync(outside, "do not read\n");
symlinkSync(outside, join(root, "link.txt"));
symlinkSync(base, join(root, "up"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("daemon instance file access", () => {
  test("walk lists the tree breadth first, links as entries that are never followed", async () => {
    const tree = await walkInstanceDir(root);
    expect(tree.status).toBe(FileAccessStatus.OK);
    const paths = tree.entries.map((e) => e.path);
    expect(paths).toContain("server.properties");
    expect(paths).toContain("plugins/conf/a.yml");
    expect(paths.some((p) => p.startsWith("up/"))).toBe(false);
    expect(tree.entries.find((e) => e.path === "plugins")?.isDir).toBe(true);
  });

  test("walk is bounded by entries and depth", async () => {
    const few = await walkInstanceDir(root, { maxEntries: 2 });
    expect(few.entries.length).toBe(2);
    expect(few.truncated).toBe(true);
    const shallow = await walkInstanceDir(root, { maxDepth: 1 });
    expect(shallow.entries.some((e) => e.path.includes("/"))).toBe(false);
    expect((await walkInstanceDir(join(base, "nope"))).status).toBe(FileAccessStatus.DIR_UNREADABLE);
  });

  test("read returns a file's head or tail within the cap", async () => {
    const props = await readInstanceFile(root, "server.properties");
    expect(text(props.content)).toBe("server-port=25565\n");
    const head = await readInstanceFile(root, "big.txt", { maxBytes: 10 });
    expect(head).toMatchObject({ totalSizeBytes: 100_000, truncated: true });
    expect(head.content.length).toBe(10);
    const tail = await readInstanceFile(root, "big.txt", { maxBytes: 5, tail: true });
    expect(text(tail.content)).toBe("xxxxx");
  });

  test("nothing outside the instance directory can be read", async () => {
    for (const path of ["../secret.txt", "/etc/passwd", "plugins/../../secret.txt", "a\0b"])
      expect((await readInstanceFile(root, path)).status).toBe(FileAccessStatus.PATH_OUTSIDE_INSTANCE);
    // a symlink is not a regular file; a path through a linked directory resolves outside
    expect((await readInstanceFile(root, "link.txt")).status).toBe(FileAccessStatus.NOT_REGULAR_FILE);
    expect((await readInstanceFile(root, "up/secret.txt")).status).toBe(
      FileAccessStatus.PATH_OUTSIDE_INSTANCE,
    );
    expect((await readInstanceFile(root, "missing.txt")).status).toBe(FileAccessStatus.FILE_NOT_FOUND);
    expect((await readInstanceFile(root, "plugins")).status).toBe(FileAccessStatus.NOT_REGULAR_FILE);
  });
});
