import { join } from "node:path";
import { parseControllerConfig } from "../../src/config/controller-config.ts";
import type { ControllerConfig } from "../../src/config/controller-schema.ts";
import { type RunningController, startController } from "../../src/controller/boot.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { tempDir } from "./adapters.ts";

export const TEST_ADMIN_PASSWORD = "correct-horse-battery";

export interface TestController {
  url: string;
  root: string;
  running: RunningController;
  config: ControllerConfig;
  login(username?: string, password?: string): Promise<string>;
  /** fetch relative to the controller with an optional bearer token and JSON body */
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * An in-process controller on the embedded store and in-memory coordination, REST on an
 * ephemeral loopback port. `yaml` is merged over a test baseline with generous rate limits.
 */
export async function startTestController(
  yaml = "",
  mutate?: (c: ControllerConfig) => void,
  existingRoot?: string,
): Promise<TestController> {
  const root = existingRoot ?? tempDir("prexor-ctl-");
  const config = parseControllerConfig(
    [
      "http:",
      "  host: 127.0.0.1",
      "  port: 1",
      // Tests never reach the internet: a catalog miss stays a miss unless a test points this at its own server.
      "catalog:",
      "  downloads:",
      "    enabled: false",
      "security:",
      `  initialAdminPassword: ${TEST_ADMIN_PASSWORD}`,
      "  rateLimiting:",
      "    perIpPerMinute: 100000",
      "    perUserPerMinute: 100000",
      "    loginPerIpPerMinute: 100000",
      yaml,
    ].join("\n"),
    join(root, "controller.yml"),
    { env: {} },
  );
  config.http.port = 0;
  config.grpc.port = 0;
  mutate?.(config);
  const running = await startController({ root, config, log: silentLogger() });
  const url = `http://127.0.0.1:${running.httpPort}`;
  const call: TestController["call"] = (method, path, options = {}) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
        ...options.headers,
      },
      body:
        options.body === undefined
          ? undefined
          : typeof options.body === "string"
            ? options.body
            : JSON.stringify(options.body),
    });
  const login = async (username = "admin", password = TEST_ADMIN_PASSWORD) => {
    const res = await call("POST", "/api/v1/auth/login", { body: { username, password } });
    if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };
  return { url, root, running, config, login, call, stop: () => running.stop() };
}
