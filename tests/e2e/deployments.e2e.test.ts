/**
 * Deployments end to end with the compiled binary: `prexor up` (controller + local daemon) runs a
 * STATIC group of four flying-squid servers built from a template. `prexorctl deploy --watch` rolls
 * it from template v1 to v2 one instance at a time with maxUnavailable 0 while REST is sampled every
 * 100 ms (RUNNING never below 4, v2's file in every instance directory, exit 0). Then a CANARY of a
 * v3 whose workload exits 1: the canary crashes, the deployment ends ROLLED_BACK, the group is back
 * on v2 with no v3 instance left, and `deploy --watch` exits non-zero. Last, `deploy save` copies a
 * running instance's text config files (read from its node over the stream) into a new version.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
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
afterAll(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const r of running.splice(0)) await r.stop("SIGTERM");
});

interface InstanceView {
  id: string;
  state: string;
  deploymentRevision: number;
}
interface DeploymentView {
  revision: number;
  state: string;
  strategy: string;
  updatedInstances: number;
  waves: Array<{ index: number; kind: string; verdict: string; reason: string }>;
  reason: string;
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

  async deployments(group: string): Promise<DeploymentView[]> {
    const res = await this.call<{ data: DeploymentView[] }>("GET", `/api/v1/groups/${group}/deployments`);
    return res.body.data;
  }

  async uploadVersion(template: string, files: Record<string, string>): Promise<string> {
    const archive = new Bun.Archive(files, { compress: "gzip" });
    const bytes = new Uint8Array(await (await archive.blob()).arrayBuffer());
    const res = await fetch(`${this.base}/api/v1/templates/${template}/versions`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/gzip" },
      body: bytes,
    });
    if (res.status >= 300) throw new Error(`upload: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { hash: string }).hash;
  }
}

/** `prexorctl …` against the controller with the admin's token; resolves with exit code and output. */
function ctl(api: AdminApi, args: string[]) {
  const proc = Bun.spawn([ctlPath, ...args], {
    env: {
      ...process.env,
      NO_COLOR: "1",
      XDG_CONFIG_HOME: tempDir("prexorctl-deploy-home-"),
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

function fileIn(dir: string, instanceId: string, file: string): string | undefined {
  const path = join(dir, "daemon", "instances", instanceId, file);
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

describe("deployments end to end", () => {
  test("rolling v1→v2 keeps 4 RUNNING; a crashing CANARY v3 rolls back", async () => {
    const dir = tempDir("prexor-e2e-deploy-");
    const { api, up } = await startUpCloud(dir, (base) => new Api(base), {
      yaml: "catalog:\n  downloads:\n    enabled: false\nscheduler:\n  evaluationIntervalSeconds: 2\n",
    });
    running.push(up);

    expect((await api.call("POST", "/api/v1/templates", { name: "squidfiles" })).status).toBe(201);
    await api.uploadVersion("squidfiles", { "version.txt": "v1\n" });
    const rangeStart = await workloadPortRange();
    const created = await api.call("POST", "/api/v1/groups", {
      name: "squid",
      platform: "CUSTOM",
      scalingMode: "STATIC",
      minInstances: 4,
      maxInstances: 4,
      memoryMb: 192,
      templates: ["squidfiles"],
      portRangeStart: rangeStart,
      portRangeEnd: Math.min(65535, rangeStart + 40),
      // A template version that carries crash.txt makes the workload exit 1 before it serves.
      argvTemplate: [
        "sh",
        "-c",
        `if [ -f {INSTANCE_DIR}/crash.txt ]; then echo 'crash.txt present' >&2; exit 1; fi; exec ${process.execPath} ${LAUNCHER} --port {PORT}`,
      ],
    });
    expect(created.status).toBe(201);
    await waitFor(
      async () => (await api.services("squid")).filter((i) => i.state === "RUNNING").length === 4,
      {
        timeoutMs: 120_000,
        intervalMs: 250,
        what: "4 squid instances RUNNING on v1",
      },
    );
    for (const i of await api.services("squid")) expect(fileIn(dir, i.id, "version.txt")).toBe("v1\n");

    // v2 is uploaded (it becomes current) and rolled out through the CLI, watched to the end.
    await api.uploadVersion("squidfiles", { "version.txt": "v2\n" });
    let minRunning = Number.POSITIVE_INFINITY;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const list = await api.services("squid");
        minRunning = Math.min(minRunning, list.filter((i) => i.state === "RUNNING").length);
        samples++;
        await Bun.sleep(100);
      }
    })();
    const watched = await ctl(api, [
      "deploy",
      "squid",
      "--template",
      "squidfiles:v2",
      "--batch-size",
      "1",
      "--max-unavailable",
      "0",
      "-y",
      "--watch",
    ]);
    sampling = false;
    await sampler;
    console.log(`E2E deploy v2: watch exit ${watched.code}; ${samples} samples, RUNNING min ${minRunning}`);
    console.log(watched.stdout.split("\n").slice(-6).join("\n"));
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain("r1 COMPLETED");
    expect(minRunning).toBeGreaterThanOrEqual(4);
    const [r1] = await api.deployments("squid");
    expect(r1).toMatchObject({ revision: 1, state: "COMPLETED", updatedInstances: 4 });
    expect(r1!.waves.length).toBe(4);
    const onV2 = (await api.services("squid")).filter((i) => i.state === "RUNNING");
    expect(onV2.length).toBe(4);
    for (const i of onV2) {
      expect(i.deploymentRevision).toBe(1);
      expect(fileIn(dir, i.id, "version.txt")).toBe("v2\n");
    }

    // v3 crashes on start: the canary fails the gate, the deployment rolls back, v2 stays.
    await api.uploadVersion("squidfiles", { "version.txt": "v3\n", "crash.txt": "boom\n" });
    const canary = await ctl(api, [
      "deploy",
      "squid",
      "--strategy",
      "CANARY",
      "--template",
      "squidfiles:v3",
      "--canary",
      "1",
      "--min-healthy",
      "5",
      "-y",
      "--watch",
    ]);
    console.log(`E2E deploy v3 (canary): watch exit ${canary.code}`);
    console.log(canary.stdout.split("\n").slice(-4).join("\n"));
    expect(canary.code).not.toBe(0);
    const r2 = (await api.deployments("squid")).find((d) => d.revision === 2)!;
    expect(r2.state).toBe("ROLLED_BACK");
    expect(r2.reason).toContain("crashed");
    expect(r2.waves[0]).toMatchObject({ index: 1, kind: "canary", verdict: "failed" });
    await waitFor(
      async () => {
        const list = await api.services("squid");
        const live = list.filter((i) => !["STOPPED", "CRASHED"].includes(i.state));
        return live.length === 4 && live.every((i) => i.state === "RUNNING" && i.deploymentRevision === 1);
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "the group back on v2 (r1), no r2 instance alive" },
    );
    for (const i of (await api.services("squid")).filter((x) => x.state === "RUNNING"))
      expect(fileIn(dir, i.id, "version.txt")).toBe("v2\n");
    // Deploy-back: a running v2 instance's text config files become the template's next version.
    const source = (await api.services("squid")).find((i) => i.state === "RUNNING")!;
    const saved = await ctl(api, ["deploy", "save", source.id, "--to-template", "squidfiles", "-o", "json"]);
    expect(saved.code).toBe(0);
    const answer = JSON.parse(saved.stdout) as { files: string[]; version: { hash: string } };
    expect(answer.files).toContain("version.txt");
    const exported = await fetch(`${api.base}/api/v1/templates/squidfiles/export`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(exported.status).toBe(200);
    expect(exported.headers.get("x-template-hash")).toBe(answer.version.hash);
    const files = await new Bun.Archive(new Uint8Array(await exported.arrayBuffer())).files();
    expect(await files.get("version.txt")?.text()).toBe("v2\n");
    // built on the v2 the instance ran, not on the current (crashing) v3
    expect(files.has("crash.txt")).toBe(false);
    console.log(
      `E2E deploy save: ${answer.files.length} text file(s) from ${source.id} → squidfiles ${answer.version.hash.slice(0, 12)}`,
    );

    const metrics = await (await fetch(`${api.base}/metrics`)).text();
    expect(metrics).toMatch(/prexorcloud_deployments_total\{outcome="COMPLETED"\} 1/);
    expect(metrics).toMatch(/prexorcloud_deployments_total\{outcome="ROLLED_BACK"\} 1/);

    expect(await up.stop("SIGINT")).toBe(0);
  }, 420_000);
});
