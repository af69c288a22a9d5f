/**
 * pickBuild is the pure half of the PaperMC lookup. Seeded property test over random builds lists in
 * both API shapes: the chosen build is in the best accepted channel present, has the highest build
 * number of that channel, carries its own published checksum and URL, and nothing outside the
 * accepted channels is ever chosen (no accepted build at all is a permanent error).
 */
import { describe, expect, test } from "bun:test";
import {
  buildsUrl,
  DownloadsApiError,
  pickBuild,
} from "../../../src/controller/catalog/papermc-downloads.ts";
import { seededRandom } from "../scheduler/fleet.ts";

const V3_CHANNELS = ["ALPHA", "BETA", "STABLE", "RECOMMENDED"];
const base = "http://127.0.0.1:1";

describe("pickBuild (seeded)", () => {
  for (const seed of [1, 2, 3, 42, 1337, 9001]) {
    test(`seed ${seed}: the best accepted channel, then the newest build`, () => {
      const rand = seededRandom(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
      for (let round = 0; round < 200; round++) {
        const count = Math.floor(rand() * 8);
        const ids = new Set<number>();
        while (ids.size < count) ids.add(1 + Math.floor(rand() * 500));
        const builds = [...ids].map((id) => ({
          id,
          channel: pick(V3_CHANNELS),
          sha: id.toString(16).padStart(64, "0"),
        }));
        const channels = V3_CHANNELS.filter(() => rand() < 0.5);
        if (channels.length === 0) channels.push("STABLE");
        // order of preference is random too
        channels.sort(() => rand() - 0.5);
        const v3 = builds
          .sort((a, b) => b.id - a.id)
          .map((b) => ({
            id: b.id,
            channel: b.channel,
            downloads: {
              "server:default": {
                name: `p-${b.id}.jar`,
                checksums: { sha256: b.sha },
                url: `${base}/${b.id}.jar`,
              },
            },
          }));
        const rank = (c: string) => channels.indexOf(c);
        const accepted = builds.filter((b) => rank(b.channel) >= 0);
        const config = { api: "v3" as const, baseUrl: base, channels };
        if (accepted.length === 0) {
          expect(() => pickBuild(config, "paper", "1.21.4", v3)).toThrow(DownloadsApiError);
          continue;
        }
        const best = Math.min(...accepted.map((b) => rank(b.channel)));
        const newest = Math.max(...accepted.filter((b) => rank(b.channel) === best).map((b) => b.id));
        const chosen = pickBuild(config, "paper", "1.21.4", v3);
        expect(chosen).toEqual({
          build: newest,
          channel: channels[best]!,
          sha256: newest.toString(16).padStart(64, "0"),
          url: `${base}/${newest}.jar`,
          fileName: `p-${newest}.jar`,
        });
        // The same builds in the v2 shape (oldest first, default/experimental channels).
        const v2Channel: Record<string, string> = { STABLE: "default", BETA: "experimental" };
        const v2Builds = builds.filter((b) => v2Channel[b.channel]).sort((a, b) => a.id - b.id);
        const v2Accepted = v2Builds.filter((b) => rank(b.channel) >= 0);
        const v2 = {
          builds: v2Builds.map((b) => ({
            build: b.id,
            channel: v2Channel[b.channel],
            downloads: { application: { name: `p-${b.id}.jar`, sha256: b.sha } },
          })),
        };
        const v2Config = { ...config, api: "v2" as const };
        if (v2Accepted.length === 0) {
          expect(() => pickBuild(v2Config, "paper", "1.21.4", v2)).toThrow(DownloadsApiError);
          continue;
        }
        const v2Best = Math.min(...v2Accepted.map((b) => rank(b.channel)));
        const v2Newest = Math.max(...v2Accepted.filter((b) => rank(b.channel) === v2Best).map((b) => b.id));
        expect(pickBuild(v2Config, "paper", "1.21.4", v2)).toMatchObject({
          build: v2Newest,
          url: `${base}/v2/projects/paper/versions/1.21.4/builds/${v2Newest}/downloads/p-${v2Newest}.jar`,
        });
      }
    });
  }
});

describe("buildsUrl", () => {
  const config = (api: "v2" | "v3", baseUrl: string) => ({
    enabled: true,
    api,
    baseUrl,
    userAgent: "",
    timeoutMs: 1000,
    channels: ["STABLE"],
  });
  test("a blank base is PaperMC's own origin for the API shape; a mirror is used as given", () => {
    expect(buildsUrl(config("v3", ""), "paper", "1.21.4")).toBe(
      "https://fill.papermc.io/v3/projects/paper/versions/1.21.4/builds",
    );
    expect(buildsUrl(config("v2", ""), "waterfall", "1.21")).toBe(
      "https://api.papermc.io/v2/projects/waterfall/versions/1.21/builds",
    );
    expect(buildsUrl(config("v3", "http://mirror.internal:8080/"), "velocity", "3.4.0-SNAPSHOT")).toBe(
      "http://mirror.internal:8080/v3/projects/velocity/versions/3.4.0-SNAPSHOT/builds",
    );
  });
});
