/**
 * BLUE_GREEN end to end with the compiled binary: `prexor up` runs a STATIC group of two flying-squid
 * servers on template v1 and a minecraft-protocol player is connected to one of them (blue). `prexorctl
 * deploy --strategy BLUE_GREEN --watch` to v2: the green pair starts beside blue, the placement answer
 * (`/api/plugin/instances`, read with a workload's own token) names blue until the switch and green
 * after it, blue drains and keeps its player (a plugin-less server's player has no proxy to be moved
 * through: the player leaves on its own, as a player following the new routing would), then blue
 * stops, the watch exits 0, and at no 100 ms sample is the group without a RUNNING instance.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Client, createClient } from "minecraft-protocol";
import { tempDir } from "../support/adapters.ts";
import { AdminApi } from "../support/admin-api.ts";
import { ctlPath, ensureBinary, type Running } from "../support/binary.ts";
import { workloadPortRange } from "../support/ports.ts";
import { startUpCloud } from "../support/up-cloud.ts";
import { waitFor } from "../support/wait.ts";
import { LAUNCHER } from "../support/workloads/harness.ts";

ensureBinary();
const running: Running[] = [];
const children: Array<ReturnType<typeof Bun.spawn>> = [];
let client: Client | undefined;
afterAll(async () => {
  client?.end("test over");
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const r of running.splice(0)) await r.stop("SIGTERM");
});

interface InstanceView {
  id: string;
  state: string;
  port: number;
  deploymentRevision: number;
  playerCount: number;
}

class Api extends AdminApi {
  async services(group: string): Promise<InstanceView[]> {
    const res = await this.call<{ data: InstanceView[] }>(
      "GET",
      `/api/v1/services?group=${group}&pageSize=500`,
    );
    if (res.status !== 200) throw new Error(`GET /services: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data;
  }

  async uploadVersion(template: string, files: Record<string, string>): Promise<void> {
    const archive = new Bun.Archive(files, { compress: "gzip" });
    const bytes = new Uint8Array(await (await archive.blob()).arrayBuffer());
    const res = await fetch(`${this.base}/api/v1/templates/${template}/versions`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/gzip" },
      body: bytes,
    });
    if (res.status >= 300) throw new Error(`upload: ${res.status} ${await res.text()}`);
  }
}

function ctl(api: AdminApi, args: string[]) {
  const proc = Bun.spawn([ctlPath, ...args], {
    env: {
      ...process.env,
      NO_COLOR: "1",
      XDG_CONFIG_HOME: tempDir("prexorctl-bg-home-"),
      PREXOR_CONTROLLER: api.base,
      PREXOR_TOKEN: api.token,
      PREXOR_CONTEXT: "",
      PREXOR_OUTPUT: "",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push(proc);
  return (async () => {
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  })();
}

/** The plugin token the daemon handed this workload (the test workload leaves it in its directory). */
function tokenOf(dir: string, instanceId: string): string | undefined {
  const path = join(dir, "daemon", "instances", instanceId, ".test-plugin-token");
  return existsSync(path) ? readFileSync(path, "utf8").trim() || undefined : undefined;
}

describe("BLUE_GREEN end to end", () => {
  test("the answer moves to green, blue keeps its player until it leaves, then stops; never no RUNNING", async () => {
    const dir = tempDir("prexor-e2e-bluegreen-");
    const { api, up } = await startUpCloud(dir, (base) => new Api(base), {
      yaml: "catalog:\n  downloads:\n    enabled: false\nscheduler:\n  evaluationIntervalSeconds: 2\n",
    });
    running.push(up);
    expect((await api.call("POST", "/api/v1/templates", { name: "bgfiles" })).status).toBe(201);
    await api.uploadVersion("bgfiles", { "version.txt": "v1\n" });
    const rangeStart = await workloadPortRange();
    const created = await api.call("POST", "/api/v1/groups", {
      name: "bgsquid",
      platform: "CUSTOM",
      scalingMode: "STATIC",
      minInstances: 2,
      maxInstances: 2,
      memoryMb: 192,
      templates: ["bgfiles"],
      portRangeStart: rangeStart,
      portRangeEnd: Math.min(65535, rangeStart + 40),
      // The test reads the placement answer as a workload would, with the token the daemon passed.
      argvTemplate: [
        "sh",
        "-c",
        `umask 077; printf %s "$CLOUD_PLUGIN_TOKEN" > {INSTANCE_DIR}/.test-plugin-token; exec ${process.execPath} ${LAUNCHER} --port {PORT}`,
      ],
    });
    expect(created.status).toBe(201);
    await waitFor(
      async () => (await api.services("bgsquid")).filter((i) => i.state === "RUNNING").length === 2,
      {
        timeoutMs: 120_000,
        intervalMs: 250,
        what: "2 bgsquid instances RUNNING on v1",
      },
    );
    const blue = (await api.services("bgsquid")).filter((i) => i.state === "RUNNING");
    const target = blue[0]!;
    client = createClient({ host: "127.0.0.1", port: target.port, username: "Prexor_blue", auth: "offline" });
    await new Promise<void>((resolve, reject) => {
      client!.once("login", () => resolve());
      client!.once("error", reject);
    });
    // Counted by the node's list ping: a deployment started before that sees an empty blue, which
    // has nobody to keep and stops at once after the switch.
    await waitFor(
      async () => {
        const b = (await api.services("bgsquid")).find((i) => i.id === target.id);
        return b?.state === "RUNNING" && b.playerCount === 1;
      },
      { timeoutMs: 30_000, what: "blue RUNNING with the player counted" },
    );

    /** `/api/plugin/instances` for the group, asked with any live workload's token that is accepted. */
    const answer = async (ids: readonly string[]): Promise<string[] | undefined> => {
      for (const id of ids) {
        const token = tokenOf(dir, id);
        if (!token) continue;
        const res = await fetch(`${api.base}/api/plugin/instances`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (res.status !== 200) continue;
        const body = (await res.json()) as { data: Array<{ id: string; group: string }> };
        return body.data
          .filter((i) => i.group === "bgsquid")
          .map((i) => i.id)
          .sort();
      }
      return undefined;
    };
    expect(await answer(blue.map((i) => i.id))).toEqual(blue.map((i) => i.id).sort());

    await api.uploadVersion("bgfiles", { "version.txt": "v2\n" });
    const breaches: string[] = [];
    let samples = 0;
    let answers = 0;
    let sawGreenAnswer = false;
    let blueHeldPlayer = false;
    let left = false;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const list = await api.services("bgsquid");
        const byId = new Map(list.map((i) => [i.id, i]));
        if (!list.some((i) => i.state === "RUNNING"))
          breaches.push(`no RUNNING instance at sample ${samples}`);
        const listed = await answer(
          list.filter((i) => i.state === "RUNNING" || i.state === "DRAINING").map((i) => i.id),
        );
        if (listed !== undefined) {
          answers++;
          if (listed.length === 0) breaches.push(`empty answer at sample ${samples}`);
          for (const id of listed)
            if (byId.get(id)?.state !== "RUNNING") breaches.push(`answer lists ${id} ${byId.get(id)?.state}`);
          const green = listed.filter((id) => (byId.get(id)?.deploymentRevision ?? 0) > 0);
          if (green.length > 0 && green.length < listed.length)
            breaches.push(`answer mixes sides: ${listed}`);
          if (green.length > 0 && green.length === listed.length) sawGreenAnswer = true;
        }
        // After the switch blue drains but keeps its player; the player then follows the new routing.
        if (sawGreenAnswer && !left) {
          const b = byId.get(target.id);
          if (b?.state === "DRAINING") {
            blueHeldPlayer = true;
            client?.end("moving to green");
            left = true;
          }
        }
        samples++;
        await Bun.sleep(100);
      }
    })();
    const watched = await ctl(api, [
      "deploy",
      "bgsquid",
      "--template",
      "bgfiles:v2",
      "--strategy",
      "BLUE_GREEN",
      "-y",
      "--watch",
    ]);
    sampling = false;
    await sampler;
    console.log(
      `E2E BLUE_GREEN: watch exit ${watched.code}; ${samples} samples, ${answers} answers, breaches ${breaches.length}`,
    );
    console.log(watched.stdout.split("\n").slice(-6).join("\n"));
    if (watched.code !== 0) console.log(watched.stderr);
    expect(watched.code).toBe(0);
    expect(breaches).toEqual([]);
    expect(sawGreenAnswer).toBe(true);
    expect(blueHeldPlayer).toBe(true);
    const after = await api.services("bgsquid");
    const live = after.filter((i) => i.state === "RUNNING");
    expect(live.length).toBe(2);
    expect(live.every((i) => i.deploymentRevision === 1)).toBe(true);
    for (const b of blue) expect(after.find((i) => i.id === b.id)?.state ?? "STOPPED").toBe("STOPPED");
    expect(await answer(live.map((i) => i.id))).toEqual(live.map((i) => i.id).sort());
  }, 240_000);
});
