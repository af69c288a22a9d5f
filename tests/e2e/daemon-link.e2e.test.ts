/**
 * The daemon link with the compiled binary and real processes: a controller and two daemons enrol
 * with join tokens and show ONLINE; kill -9 of a daemon is UNREACHABLE once its heartbeats stop; a
 * restart comes back ONLINE without a new token; revoking its certificate closes the stream and its
 * reconnects are refused; a reused token makes `prexor daemon` exit non-zero; and
 * `prexor up` brings its own daemon ONLINE.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/adapters.ts";
import { AdminApi, readInitialPassword, ready } from "../support/admin-api.ts";
import { ensureBinary, type Running, runBinary, startBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

const HEARTBEAT_MS = 500;

ensureBinary();
const running: Running[] = [];
afterAll(async () => {
  for (const r of running.splice(0)) await r.stop("SIGKILL");
});

interface NodeView {
  id: string;
  state: string;
  connected: boolean;
  certificate: { revoked: boolean };
}

class Api extends AdminApi {
  async nodes(): Promise<Map<string, NodeView>> {
    const res = await this.request("GET", "/api/v1/nodes");
    const body = (await res.json()) as { data: NodeView[] };
    return new Map(body.data.map((n) => [n.id, n]));
  }

  async token_(nodeId: string): Promise<string> {
    const res = await this.request("POST", "/api/v1/admin/tokens", { nodeId });
    if (res.status !== 201) throw new Error(`token: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  }

  waitState(nodeId: string, state: string, timeoutMs = 10_000): Promise<NodeView> {
    return waitFor(
      async () => {
        const node = (await this.nodes()).get(nodeId);
        return node?.state === state ? node : null;
      },
      { timeoutMs, intervalMs: 20, what: `${nodeId} ${state}` },
    );
  }
}

function daemonRoot(nodeId: string): string {
  const root = tempDir(`prexor-e2e-${nodeId}-`);
  mkdirSync(join(root, "config"));
  writeFileSync(
    join(root, "config/daemon.yml"),
    [`nodeId: ${nodeId}`, "reconnect:", "  initialDelayMs: 100", "  maxDelayMs: 500", ""].join("\n"),
  );
  return root;
}

describe("controller and daemons as separate processes", () => {
  let api: Api;
  let controller: Running;
  let grpc: string;
  const roots: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const daemons: Record<string, Running> = {};

  const startDaemon = (nodeId: string) => {
    const daemon = startBinary([
      "daemon",
      "--root",
      roots[nodeId]!,
      "--controller",
      grpc,
      "--join-token",
      tokens[nodeId]!,
    ]);
    running.push(daemon);
    daemons[nodeId] = daemon;
    return daemon;
  };

  beforeAll(async () => {
    const root = tempDir("prexor-e2e-ctl-");
    const httpPort = await freePort();
    const grpcPort = await freePort();
    mkdirSync(join(root, "config"));
    writeFileSync(
      join(root, "config/controller.yml"),
      [
        "http:",
        "  host: 127.0.0.1",
        `  port: ${httpPort}`,
        "grpc:",
        "  host: 127.0.0.1",
        `  port: ${grpcPort}`,
        "heartbeat:",
        `  intervalMs: ${HEARTBEAT_MS}`,
        "  missedThreshold: 3",
        "security:",
        "  rateLimiting:",
        "    perIpPerMinute: 100000",
        "    perUserPerMinute: 100000",
        "",
      ].join("\n"),
    );
    controller = startBinary(["controller", "--root", root]);
    running.push(controller);
    await waitFor(() => ready(httpPort), { timeoutMs: 20_000, what: "controller health" });
    api = new Api(`http://127.0.0.1:${httpPort}`);
    await api.login(await readInitialPassword(root));
    grpc = `127.0.0.1:${grpcPort}`;
    for (const nodeId of ["e2e-1", "e2e-2"]) {
      roots[nodeId] = daemonRoot(nodeId);
      tokens[nodeId] = await api.token_(nodeId);
    }
  });

  test("two daemons enrol with tokens and show ONLINE", async () => {
    startDaemon("e2e-1");
    startDaemon("e2e-2");
    await api.waitState("e2e-1", "ONLINE", 20_000);
    await api.waitState("e2e-2", "ONLINE", 20_000);
    expect(daemons["e2e-1"]!.output()).toContain("enrolled: node certificate stored");
  });

  test("kill -9 of a daemon: UNREACHABLE once its heartbeats stop; the other stays ONLINE", async () => {
    daemons["e2e-1"]!.child.kill("SIGKILL");
    await api.waitState("e2e-1", "UNREACHABLE", 20_000);
    expect((await api.nodes()).get("e2e-2")?.state).toBe("ONLINE");
  });

  test("restarted with the same command line it is ONLINE again without a new token", async () => {
    const again = startDaemon("e2e-1");
    await api.waitState("e2e-1", "ONLINE", 10_000);
    expect(again.output()).toContain("already enrolled");
    expect(again.output()).not.toContain("enrolled: node certificate stored");
  });

  test("revoking its certificate closes the stream and reconnects are refused", async () => {
    const before = controller.output().length;
    expect((await api.request("POST", "/api/v1/nodes/e2e-1/revoke-cert")).status).toBe(200);
    await waitFor(async () => (await api.nodes()).get("e2e-1")?.connected === false, {
      timeoutMs: 10_000,
      what: "e2e-1 disconnected",
    });
    // The daemon keeps redialling and each attempt is refused by the controller, with the reason logged.
    await waitFor(
      () =>
        (
          controller
            .output()
            .slice(before)
            .match(/gRPC call refused: Client certificate revoked/g) ?? []
        ).length >= 2,
      { timeoutMs: 10_000, what: "refused reconnects in the controller log" },
    );
    const node = (await api.nodes()).get("e2e-1")!;
    expect(node).toMatchObject({ state: "OFFLINE", connected: false, certificate: { revoked: true } });
    expect(daemons["e2e-1"]!.output()).toContain("controller refused this node");
    expect((await api.nodes()).get("e2e-2")?.state).toBe("ONLINE");
  });

  test("a reused join token is refused: prexor daemon exits non-zero with a clear message", async () => {
    const result = runBinary(
      ["daemon", "--root", daemonRoot("e2e-3"), "--controller", grpc, "--join-token", tokens["e2e-2"]!],
      { timeoutMs: 20_000 },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown, expired, revoked or already used");
    // runBinary blocks this process, so the controller's log arrives after it returns.
    await waitFor(() => controller.output().includes("enrolment refused: join token consumed"), {
      what: "the refusal in the controller log",
    });
  });

  test("a daemon stopped with SIGTERM says goodbye: OFFLINE, not UNREACHABLE", async () => {
    expect(await daemons["e2e-2"]!.stop("SIGTERM")).toBe(0);
    await api.waitState("e2e-2", "OFFLINE", 5000);
  });
});

describe("prexor up", () => {
  test("runs a local daemon that is enrolled automatically and ONLINE; a restart reuses its certificate", async () => {
    const dir = tempDir("prexor-e2e-up-");
    const port = await freePort();
    const args = ["up", "--dir", dir, "--port", String(port), "--grpc-port", String(await freePort())];
    const up = startBinary(args);
    running.push(up);
    await waitFor(() => ready(port), { timeoutMs: 20_000, what: "up health" });
    const api = new Api(`http://127.0.0.1:${port}`);
    await api.login(await readInitialPassword(dir));
    await api.waitState("local", "ONLINE", 10_000);
    expect(up.output()).toContain('daemon:   node "local"');
    expect(await up.stop("SIGINT")).toBe(0);

    const again = startBinary(args);
    running.push(again);
    await waitFor(() => ready(port), { timeoutMs: 20_000, what: "up health after restart" });
    await api.login(await readInitialPassword(dir));
    await api.waitState("local", "ONLINE", 10_000);
    expect(again.output()).not.toContain("enrolled: node certificate stored");
    expect(await again.stop("SIGTERM")).toBe(0);
  });

  test("production refuses to run without a cluster secret, naming the key", () => {
    const root = tempDir("prexor-e2e-prod-");
    writeFileSync(
      join(root, "controller.yml"),
      "runtime:\n  profile: production\nredis:\n  uri: redis://127.0.0.1:1\nmodules:\n  signing:\n    required: false\n",
    );
    const result = runBinary(["config", "check", join(root, "controller.yml")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("security.clusterSecret");
  });
});
