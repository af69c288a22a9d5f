/**
 * A real controller (embedded store, in-memory coordination, REST on loopback) plus what a plugin
 * would hold: instance records in the store and the `ptk_` token the controller would have put in
 * StartInstance. Tokens are minted through the controller's own WorkloadTokens, so they are the
 * same credentials a daemon-started plugin gets.
 */
import { expect } from "bun:test";
import type { InstanceDoc } from "../../../src/controller/instances/instance-doc.ts";
import type { InstanceState } from "../../../src/core/lifecycle/index.ts";
import { startTestController, type TestController } from "../../support/controller.ts";

export interface WorkloadHarness {
  ctl: TestController;
  admin: string;
  /** an instance record as the lifecycle would have written it */
  instance(id: string, group: string, state?: InstanceState, players?: number): Promise<void>;
  /** a plugin client holding the instance's freshly minted token */
  client(instanceId: string, group: string, prefix: "/api/plugin" | "/api/proxy"): Promise<WorkloadClient>;
  /** GET /api/v1/services/{id} as the admin */
  view(instanceId: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startWorkloadHarness(groups: Array<{ name: string; platform?: string }>) {
  const ctl = await startTestController();
  const admin = await ctl.login();
  for (const g of groups) {
    // MANUAL: the scheduler leaves these groups' instances alone.
    const res = await ctl.call("POST", "/api/v1/groups", {
      token: admin,
      body: { name: g.name, platform: g.platform ?? "PAPER", scalingMode: "MANUAL" },
    });
    expect(res.status).toBe(201);
  }
  const instances = ctl.running.store.collection<InstanceDoc>("instances");
  const harness: WorkloadHarness = {
    ctl,
    admin,
    async instance(id, group, state = "RUNNING", players = 0) {
      const now = Date.now();
      await instances.put({
        _id: id,
        group,
        node: "node-x",
        state,
        port: 30_000,
        planHash: "",
        createdAt: now,
        stateChangedAt: now,
        players,
      });
    },
    async client(instanceId, group, prefix) {
      const token = await ctl.running.instances.auth.tokens.mint({ instanceId, group });
      return new WorkloadClient(ctl.url, prefix, token);
    },
    async view(instanceId) {
      const res = await ctl.call("GET", `/api/v1/services/${instanceId}`, { token: admin });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    },
    stop: () => ctl.stop(),
  };
  return harness;
}

/** What a cloud plugin does on the wire: bearer token, a strictly increasing X-Prexor-Sequence. */
export class WorkloadClient {
  private sequence = 0;

  constructor(
    readonly url: string,
    readonly prefix: string,
    readonly token: string,
  ) {}

  /** A sequenced POST under the client's prefix. */
  post(path: string, body?: unknown): Promise<Response> {
    this.sequence += 1;
    return this.raw("POST", path, body, { "x-prexor-sequence": String(this.sequence) });
  }

  get(path: string): Promise<Response> {
    return this.raw("GET", path);
  }

  /** Exactly the headers given (besides the bearer and content type). */
  raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${this.prefix}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  }

  get lastSequence(): number {
    return this.sequence;
  }
}

/** The status and, for errors, the envelope's code: what most assertions need. */
export async function outcome(res: Response): Promise<{ status: number; code?: string }> {
  const text = await res.text();
  if (res.status < 400) return { status: res.status };
  const code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  return { status: res.status, ...(code ? { code } : {}) };
}

export async function json<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toMatchObject({ status });
  return JSON.parse(text) as T;
}
