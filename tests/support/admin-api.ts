import { readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./wait.ts";

/** generated bootstrap password → the password a test chose for it (changing it deletes the file) */
const CHOSEN_PASSWORDS = new Map<string, string>();
/** install root → its generated bootstrap password, read before the change deleted the file */
const INITIAL_PASSWORDS = new Map<string, string>();

/** A logged-in admin's view of a controller's REST API, for tests that drive the compiled binary. */
export class AdminApi {
  token = "";
  constructor(readonly base: string) {}

  /**
   * Logs in. The bootstrap admin of `prexor up` (generated password) must choose its own password
   * before anything else works; this does it once, and later logins with the generated password
   * (after a restart) use the chosen one.
   */
  async login(password: string, username = "admin"): Promise<void> {
    const effective = CHOSEN_PASSWORDS.get(password) ?? password;
    const answer = await this.loginOnce(username, effective);
    if (!answer.user?.mustChangePassword) return;
    const chosen = `${effective}-chosen-by-test`;
    const changed = await this.call("POST", "/api/v1/auth/change-password", {
      currentPassword: effective,
      newPassword: chosen,
    });
    if (changed.status !== 200) throw new Error(`change-password: ${changed.status}`);
    CHOSEN_PASSWORDS.set(password, chosen);
    await this.loginOnce(username, chosen);
  }

  private async loginOnce(
    username: string,
    password: string,
  ): Promise<{ user?: { mustChangePassword?: boolean } }> {
    const res = await fetch(`${this.base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`login: ${res.status}`);
    const body = (await res.json()) as { token: string; user?: { mustChangePassword?: boolean } };
    this.token = body.token;
    return body;
  }

  /** The raw response, for tests that look at status and headers. */
  request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /**
   * `POST /groups/{name}/start`. Placement honours the node's measured CPU (usage + reservation ≤
   * 0.95), and on a shared 2-core test box the local node is now and then briefly at 100 %; a refusal
   * for that reason is retried until the deadline, any other answer is returned as it is.
   */
  async startGroup(
    group: string,
    count = 1,
  ): Promise<{ status: number; body: { instances: Array<{ id: string; port: number }> } }> {
    type Answer = { status: number; body: { instances: Array<{ id: string; port: number }> } };
    return waitFor(
      async () => {
        const res = await this.call<Answer["body"]>("POST", `/api/v1/groups/${group}/start?count=${count}`);
        const busy = res.status === 409 && /no eligible node/.test(JSON.stringify(res.body));
        return busy ? undefined : res;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `a node with CPU to spare for ${group}` },
    );
  }

  /** Status and parsed JSON body. */
  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}

/** Whether the controller on `port` is ready: store, coordination and every start-up step up. */
export async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/api/v1/system/ready`)).status === 200;
  } catch {
    return false;
  }
}

/**
 * Whether the controller on `port` serves its whole REST surface, ready or not (a controller
 * holding writes for an interrupted restore serves, and stays unready): its readiness body names
 * its store rather than the start-up listener's "starting".
 */
export async function serving(port: number): Promise<boolean> {
  try {
    const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/system/ready`)).json()) as {
      store?: string;
    };
    return typeof body.store === "string" && body.store !== "starting";
  } catch {
    return false;
  }
}

/** Whether the controller on `port` answers its liveness probe. */
export async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/api/v1/system/health`)).status === 200;
  } catch {
    return false;
  }
}

/** The bootstrap admin password `prexor up` writes under its install root, once it exists. */
export async function readInitialPassword(root: string): Promise<string> {
  const known = INITIAL_PASSWORDS.get(root);
  if (known) return known; // AdminApi.login changed it, which deleted the file
  const file = join(root, "config/.initial-admin-password");
  const password = await waitFor(
    () => {
      try {
        return readFileSync(file, "utf8").trim();
      } catch {
        return "";
      }
    },
    { what: "the initial admin password" },
  );
  INITIAL_PASSWORDS.set(root, password);
  return password;
}
