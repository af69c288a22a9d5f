/**
 * Offline verification of a 200 MiB artifact (keyed bundle, policy NONE): the streamed hash + signature
 * check against the floor of one plain SHA-256 pass over the same file. Target: ≤ 1 s.
 *   bun run bench:verify
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signFileKeyed } from "../../src/signing/sign.ts";
import { verifyArtifact } from "../../src/signing/verify.ts";

const SIZE = 200 * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), "prexor-verify-bench-"));
try {
  const file = join(dir, "artifact.bin");
  const block = Buffer.alloc(1024 * 1024);
  const parts: Buffer[] = [];
  for (let i = 0; i < SIZE / block.length; i++) {
    block.fill(i & 0xff);
    parts.push(Buffer.from(block));
  }
  writeFileSync(file, Buffer.concat(parts));
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const signed = await signFileKeyed(file, privateKey);
  const keys = publicKey.export({ type: "spki", format: "pem" }).toString();

  const floorStart = performance.now();
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 }))
    hash.update(chunk as Buffer);
  hash.digest();
  const floor = performance.now() - floorStart;

  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await verifyArtifact({
      artifact: { path: file },
      bundle: signed.bundle,
      signer: { keys },
      rekorPolicy: "NONE",
      profile: "development",
    });
    runs.push(performance.now() - start);
  }
  const best = Math.min(...runs);
  console.log(
    `verify 200 MiB: best ${(best / 1000).toFixed(3)} s (runs ${runs.map((r) => (r / 1000).toFixed(3)).join(", ")} s); ` +
      `floor sha256 pass ${(floor / 1000).toFixed(3)} s; ratio ${(best / floor).toFixed(2)}x; target ≤ 1 s: ${best <= 1000 ? "met" : "MISSED"}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
