import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./adapters.ts";
import { AdminApi, ready } from "./admin-api.ts";
import { type Running, startBinary } from "./binary.ts";
import { freePort } from "./ports.ts";
import { writeProductionConfig } from "./production-config.ts";
import { waitFor } from "./wait.ts";

export interface ProductionController {
  root: string;
  http: number;
  grpc: number;
  proc: Running;
  /** the controller's id, from its health answer */
  id: string;
  /** not logged in yet: the first login may set the bootstrap password */
  api: AdminApi;
}

/**
 * One compiled production-profile controller on fresh loopback ports, started and healthy. The
 * process is pushed onto `running` before the health wait, so a suite's afterAll stops it even
 * when it never came up.
 */
export async function startProductionController(
  options: Omit<Parameters<typeof writeProductionConfig>[1], "http" | "grpc">,
  running: Running[],
  rootPrefix = "prexor-e2e-ctl-",
): Promise<ProductionController> {
  const root = tempDir(rootPrefix);
  const http = await freePort();
  const grpc = await freePort();
  writeProductionConfig(root, { ...options, http, grpc });
  const proc = startBinary(["controller", "--root", root]);
  running.push(proc);
  await waitFor(() => ready(http), { timeoutMs: 30_000, what: "controller health" });
  const health = (await (await fetch(`http://127.0.0.1:${http}/api/v1/system/health`)).json()) as {
    controllerId: string;
  };
  return { root, http, grpc, proc, id: health.controllerId, api: new AdminApi(`http://127.0.0.1:${http}`) };
}

/** A node as `GET /api/v1/nodes` lists it: what the failover suites look at. */
export interface NodeView {
  id: string;
  state: string;
  connected: boolean;
  controllerId: string | null;
}

/** The node `id` as the controller behind `api` sees it, or undefined when it does not list it. */
export async function nodeView(api: AdminApi, id: string): Promise<NodeView | undefined> {
  return (await api.call<{ data: NodeView[] }>("GET", "/api/v1/nodes")).body.data.find((n) => n.id === id);
}

/**
 * A daemon enrolled through `api` with a fresh join token and started against `controller`
 * (host:port): its root gets a daemon.yml of `yaml` lines (nodeId first, quick reconnects unless
 * the lines say otherwise). Pushed onto `running` so the suite stops it.
 */
export async function enrolDaemon(options: {
  api: AdminApi;
  controller: string;
  nodeId: string;
  running: Running[];
  rootPrefix: string;
  yaml?: string[];
}): Promise<Running> {
  const root = tempDir(options.rootPrefix);
  mkdirSync(join(root, "config"));
  const lines = options.yaml ?? ["reconnect:", "  initialDelayMs: 100", "  maxDelayMs: 500"];
  writeFileSync(join(root, "config/daemon.yml"), [`nodeId: ${options.nodeId}`, ...lines, ""].join("\n"));
  const token = await options.api.call<{ token: string }>("POST", "/api/v1/admin/tokens", {
    nodeId: options.nodeId,
  });
  if (token.status !== 201) throw new Error(`join token for ${options.nodeId}: ${token.status}`);
  const daemon = startBinary([
    "daemon",
    "--root",
    root,
    "--controller",
    options.controller,
    "--join-token",
    token.body.token,
  ]);
  options.running.push(daemon);
  return daemon;
}
