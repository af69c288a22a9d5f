import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { listProtoFiles } from "../../../build/gen-proto.ts";

/**
 * The wire contract is pinned: any edit to proto/ fails this test until the pin is updated, so a
 * change to what controllers and daemons exchange is always a deliberate, reviewed act.
 */
const PINNED_CONTRACT_SHA256 = "7bd855f22cd00a4d6ec8d2dcb6b8c1bafe73512eca11451b6627a3e08133649b";

const PROTO_DIR = join(import.meta.dir, "../../../proto");

/** SHA-256 over each file's path and content hash, in path order; line endings normalised. */
function contractHash(): string {
  const outer = new Bun.CryptoHasher("sha256");
  for (const path of listProtoFiles(PROTO_DIR)) {
    const text = readFileSync(join(PROTO_DIR, path), "utf8").replaceAll("\r\n", "\n");
    const inner = new Bun.CryptoHasher("sha256").update(text).digest("hex");
    outer.update(`${path}\n${inner}\n`);
  }
  return outer.digest("hex");
}

describe("proto wire contract", () => {
  test("matches the pinned hash", () => {
    const actual = contractHash();
    if (actual !== PINNED_CONTRACT_SHA256) {
      throw new Error(
        [
          "The .proto files under proto/ changed (the controller <-> daemon wire contract).",
          "If the change is intended:",
          "  1. additions (new field, frame or enum value) are compatible; removing, renumbering or",
          "     retyping anything is breaking: bump PROTOCOL_VERSION in src/wire/contract.ts;",
          "  2. run `bun run gen:proto` and commit src/proto;",
          `  3. set PINNED_CONTRACT_SHA256 in tests/unit/proto/contract-hash.test.ts to "${actual}".`,
        ].join("\n"),
      );
    }
    expect(actual).toBe(PINNED_CONTRACT_SHA256);
  });

  test("covers both contract files", () => {
    expect(listProtoFiles(PROTO_DIR)).toEqual(["prexor/v1/bootstrap.proto", "prexor/v1/daemon.proto"]);
  });
});
