import { readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./wait.ts";

/** A logged-in admin's view of a controller's REST API, for tests that drive the compiled binary. */
export class AdminApi {
  token = "";
  constructor(readonly base: string) {}

  async login(password: string, username = "admin"): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    if (res.status !== 200) throw new Error(`login: ${res.status}`);
    this.token = ((await res.json()) as { token: string }).token;
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

/** Whether the controller on `port` answers its liveness probe. */
export async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/api/v1/system/health`)).status === 200;
  } catch {
    return false;
  }
}

/** The bootstrap admin password `prexor up` writes under its install root, once it exists. */
export function readInitialPassword(root: string): Promise<string> {
  const file = join(root, "config/.initial-admin-password");
  return waitFor(
    () => {
      try {
        return readFileSync(file, "utf8").trim();
      } catch {
        return "";
      }
    },
    { what: "the initial admin password" },
  );
}
