import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AdminApi, readInitialPassword, ready } from "./admin-api.ts";
import { type Running, startBinary } from "./binary.ts";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

/**
 * The compiled `prexor up` in `dir`, logged in as the bootstrap admin, once its local daemon is
 * ONLINE. Rate limits are lifted: E2E tests poll REST several times a second, and the default 100
 * requests a minute per IP would throttle them. The caller stops `up`.
 */
export async function startUpCloud<T extends AdminApi = AdminApi>(
  dir: string,
  makeApi: (base: string) => T = (base) => new AdminApi(base) as T,
  /**
   * top-level controller.yml sections (the default keeps the PaperMC downloads API off: no internet
   * in tests); `downloads: true` turns it on, for a test that points it at its own server
   */
  options: { yaml?: string; downloads?: boolean } = {},
): Promise<{ api: T; up: Running }> {
  mkdirSync(join(dir, "config"), { recursive: true });
  writeFileSync(
    join(dir, "config/controller.yml"),
    "security:\n  rateLimiting:\n    perIpPerMinute: 100000\n    perUserPerMinute: 100000\n" +
      (options.yaml ?? "catalog:\n  downloads:\n    enabled: false\n"),
  );
  const port = await freePort();
  const up = startBinary(
    ["up", "--dir", dir, "--port", String(port), "--grpc-port", String(await freePort())],
    {
      ...(options.downloads ? { env: { PREXOR_CATALOG__DOWNLOADS__ENABLED: "true" } } : {}),
    },
  );
  try {
    await waitFor(() => ready(port), { timeoutMs: 30_000, what: "controller health" });
    const api = makeApi(`http://127.0.0.1:${port}`);
    // Written just after the listeners are up (hashing it takes a moment).
    await api.login(await readInitialPassword(dir));
    await waitFor(
      async () =>
        (
          await api.call<{ data: Array<{ id: string; state: string }> }>("GET", "/api/v1/nodes")
        ).body.data.some((n) => n.id === "local" && n.state === "ONLINE"),
      { timeoutMs: 15_000, what: "local daemon ONLINE" },
    );
    return { api, up };
  } catch (err) {
    await up.stop("SIGTERM");
    throw err;
  }
}

/**
 * Force-stops every instance the cloud still runs and waits until each has ended. `prexor up`
 * leaves its workloads running when it exits (a restarted daemon re-adopts them), so a test that
 * is done with its cloud ends them here first; a proxy that ignores its stop command included.
 */
export async function stopAllInstances(api: AdminApi): Promise<void> {
  const live = async () =>
    (
      await api.call<{ data: Array<{ id: string; state: string }> }>("GET", "/api/v1/services?pageSize=500")
    ).body.data.filter((i) => i.state !== "STOPPED" && i.state !== "CRASHED");
  for (const instance of await live()) await api.call("POST", `/api/v1/services/${instance.id}/force-stop`);
  await waitFor(async () => (await live()).length === 0, {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: "every instance ended",
  });
}
