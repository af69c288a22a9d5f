/**
 * `bun run release [--targets linux-x64,linux-arm64,darwin-arm64] [--key cosign.key.pem] [--out DIR]`
 * → DIR/<version>/ (default dist/release/<version>/):
 *   prexor-<version>-<os>-<arch>.tar.gz   binary, prexorctl link, LICENSE, README.md, systemd units,
 *                                         shell completions
 *   checksums.txt                         `sha256sum -c` format
 *   checksums.txt.sig / .pem / .sigstore.json   with --key: the detached signature, the public key and
 *                                         the Sigstore bundle (CI signs keyless instead, see
 *                                         .github/workflows/release.yml)
 *   install.sh
 * Archives are reproducible: entries sorted, mtimes = the commit time, owner 0:0, fixed modes.
 */
import { spawnSync } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { create as createTar } from "tar";
import pkg from "../package.json" with { type: "json" };
import { type Role, systemdUnit } from "../src/roles/setup-layout.ts";
import { readPrivateKey, signFileKeyed } from "../src/signing/sign.ts";

const root = resolve(import.meta.dir, "..");
const ALL_TARGETS = ["linux-x64", "linux-arm64", "darwin-arm64"] as const;
type Target = (typeof ALL_TARGETS)[number];

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function fail(message: string): never {
  console.error(`release: ${message}`);
  process.exit(1);
}

const targets = (flag("targets")?.split(",") ?? [...ALL_TARGETS]) as Target[];
for (const t of targets)
  if (!ALL_TARGETS.includes(t)) fail(`unknown target "${t}" (${ALL_TARGETS.join(", ")})`);
const version = pkg.version;
const outDir = resolve(flag("out") ?? join(root, "dist/release"), version);
const keyPath = flag("key");

const git = (...args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout.trim();
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? (git("log", "-1", "--format=%ct") || "0"));
const mtime = new Date(epoch * 1000);
const env = { ...process.env, SOURCE_DATE_EPOCH: String(epoch) };

function run(cmd: string, args: string[]): string {
  const result = spawnSync(cmd, args, { cwd: root, encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) fail(`${cmd} ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

const started = performance.now();
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const stageRoot = join(outDir, ".stage");

const completions = {
  "prexorctl.bash": run("bun", ["run", "src/main.ts", "ctl", "completion", "bash"]),
  "_prexorctl.zsh": run("bun", ["run", "src/main.ts", "ctl", "completion", "zsh"]),
  "prexorctl.fish": run("bun", ["run", "src/main.ts", "ctl", "completion", "fish"]),
};
const license = `PrexorCloud ${version}

package.json declares the license "${pkg.license}": no licence to copy, modify or redistribute this
software has been granted yet. Third-party components keep their own licences (see the npm packages
compiled into the binary).
`;

const archives: { name: string; bytes: number }[] = [];
for (const target of targets) {
  const t0 = performance.now();
  run("bun", ["run", "build/compile.ts", "--target", `bun-${target}`]);
  const name = `prexor-${version}-${target}`;
  const stage = join(stageRoot, name);
  mkdirSync(join(stage, "systemd"), { recursive: true });
  mkdirSync(join(stage, "completions"), { recursive: true });
  copyFileSync(join(root, "dist", `bun-${target}`, "prexor"), join(stage, "prexor"));
  chmodSync(join(stage, "prexor"), 0o755);
  symlinkSync("prexor", join(stage, "prexorctl"));
  writeFileSync(join(stage, "LICENSE"), license);
  copyFileSync(join(root, "README.md"), join(stage, "README.md"));
  for (const role of ["controller", "daemon"] as Role[])
    writeFileSync(join(stage, "systemd", `prexorcloud-${role}.service`), systemdUnit(role));
  for (const [file, text] of Object.entries(completions))
    writeFileSync(join(stage, "completions", file), text);
  const entries = [
    `${name}/`,
    `${name}/LICENSE`,
    `${name}/README.md`,
    `${name}/completions/`,
    ...Object.keys(completions).map((f) => `${name}/completions/${f}`),
    `${name}/prexor`,
    `${name}/prexorctl`,
    `${name}/systemd/`,
    `${name}/systemd/prexorcloud-controller.service`,
    `${name}/systemd/prexorcloud-daemon.service`,
  ].sort();
  for (const entry of entries)
    if (!entry.endsWith("/") && entry !== `${name}/prexor` && entry !== `${name}/prexorctl`)
      chmodSync(join(stageRoot, entry), 0o644);
  for (const dir of entries.filter((e) => e.endsWith("/"))) chmodSync(join(stageRoot, dir), 0o755);
  const chunks: Buffer[] = [];
  const stream = createTar(
    { cwd: stageRoot, portable: true, mtime, noDirRecurse: true, follow: false, noPax: true },
    entries,
  );
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  // gzip's header has no timestamp or name here, so the bytes depend on the input only.
  const archive = gzipSync(Buffer.concat(chunks), { level: 9 });
  const file = `${name}.tar.gz`;
  writeFileSync(join(outDir, file), archive);
  archives.push({ name: file, bytes: archive.length });
  console.log(
    `${file}: ${(archive.length / 1024 / 1024).toFixed(1)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
rmSync(stageRoot, { recursive: true, force: true });

const sums = archives
  .map(
    (a) =>
      `${createHash("sha256")
        .update(readFileSync(join(outDir, a.name)))
        .digest("hex")}  ${a.name}\n`,
  )
  .sort((a, b) => a.slice(66).localeCompare(b.slice(66)))
  .join("");
writeFileSync(join(outDir, "checksums.txt"), sums);
const privateKey = keyPath ? readPrivateKey(readFileSync(resolve(keyPath), "utf8")) : undefined;
// The published install.sh pins the key this release is signed with (its openssl path).
const installer = readFileSync(join(root, "install.sh"), "utf8");
const pinned = privateKey
  ? installer.replace(
      /RELEASE_PUBLIC_KEY='\n[\s\S]*?\n'\n/,
      `RELEASE_PUBLIC_KEY='\n${createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString().trim()}\n'\n`,
    )
  : installer;
if (privateKey && pinned === installer)
  fail("install.sh has no RELEASE_PUBLIC_KEY block to pin the key into");
writeFileSync(join(outDir, "install.sh"), pinned, { mode: 0o755 });

if (privateKey) {
  const signed = await signFileKeyed(join(outDir, "checksums.txt"), privateKey);
  writeFileSync(join(outDir, "checksums.txt.sig"), signed.signature);
  writeFileSync(join(outDir, "checksums.txt.sigstore.json"), `${JSON.stringify(signed.bundle)}\n`);
  // Keyed releases: the .pem is the public key (cosign verify-blob --key checksums.txt.pem …); a
  // keyless CI release writes the Fulcio certificate there instead.
  writeFileSync(
    join(outDir, "checksums.txt.pem"),
    createPublicKey(privateKey).export({ type: "spki", format: "pem" }),
  );
  console.log("signed checksums.txt with the given key (.sig, .pem, .sigstore.json)");
} else {
  console.log("checksums.txt left unsigned (no --key); CI signs it keyless");
}
console.log(`release ${version} → ${outDir} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
