/**
 * The DR drill (spec 80 §8, seed 001 §12), on every CI run: the compiled controller against the
 * harness's Mongo-wire server and redis-server, then the embedded → production migration.
 * `bun run drill` runs just this file; timings are printed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { MongoClient } from "mongodb";
import { tempDir } from "../support/adapters.ts";
import { AdminApi, serving } from "../support/admin-api.ts";
import { type Running, runBinary, startBinary } from "../support/binary.ts";
import { freePort } from "../support/ports.ts";
import { mongoServer, redisServer } from "../support/servers.ts";
import { tarGz } from "../support/tar-builder.ts";
import { randomId, waitFor } from "../support/wait.ts";

const mongo = await mongoServer();
const redis = await redisServer();
const skip = mongo.skip ?? redis.skip;
const PASSWORD = "drill-admin-password-1";
const running: Running[] = [];
const timings: Record<string, number> = {};

afterAll(async () => {
  for (const r of running.splice(0)) await r.stop();
  if (Object.keys(timings).length > 0) {
    console.log(
      `drill timings (s): ${Object.entries(timings)
        .map(([k, v]) => `${k}=${v.toFixed(2)}`)
        .join(" ")}`,
    );
  }
});

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = (performance.now() - started) / 1000;
  }
}

interface Install {
  root: string;
  port: number;
  yaml: string;
}

async function install(
  profile: "production" | "development",
  db?: { uri: string; database: string; redis: string; secret: string },
): Promise<Install> {
  const root = tempDir("prexor-drill-");
  const port = await freePort();
  const lines = [
    "http:",
    "  host: 127.0.0.1",
    `  port: ${port}`,
    "grpc:",
    "  host: 127.0.0.1",
    `  port: ${await freePort()}`,
    "runtime:",
    `  profile: ${profile}`,
    "security:",
    `  initialAdminPassword: ${PASSWORD}`,
    "  rateLimiting:",
    "    perIpPerMinute: 100000",
    "    perUserPerMinute: 100000",
    "    loginPerIpPerMinute: 100000",
  ];
  if (db) {
    lines.push(`  clusterSecret: ${db.secret}`);
    lines.push("database:", `  uri: ${db.uri}`, `  database: ${db.database}`, "redis:", `  uri: ${db.redis}`);
    lines.push("modules:", "  signing:", "    required: false");
  }
  const yaml = `${lines.join("\n")}\n`;
  mkdirSync(join(root, "config"), { recursive: true });
  writeFileSync(join(root, "config/controller.yml"), yaml);
  return { root, port, yaml };
}

async function start(inst: Install): Promise<{ proc: Running; api: AdminApi }> {
  const proc = startBinary(["controller", "--root", inst.root]);
  running.push(proc);
  await waitFor(() => serving(inst.port), {
    timeoutMs: 30_000,
    what: `controller on ${inst.port}: ${proc.output().slice(-400)}`,
  });
  const api = new AdminApi(`http://127.0.0.1:${inst.port}`);
  await waitFor(
    async () =>
      api.login(PASSWORD).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 20_000, what: "admin login" },
  );
  return { proc, api };
}

async function stop(proc: Running): Promise<void> {
  expect(await proc.stop("SIGTERM")).toBe(0);
  running.splice(running.indexOf(proc), 1);
}

async function seed(api: AdminApi): Promise<void> {
  const ok = (r: { status: number; body: unknown }, want = 201) => {
    if (r.status !== want) throw new Error(`seed: ${r.status} ${JSON.stringify(r.body)}`);
  };
  ok(await api.call("POST", "/api/v1/templates", { name: "lobby", description: "hub" }));
  const res = await fetch(`${api.base}/api/v1/templates/lobby/versions`, {
    method: "POST",
    headers: { authorization: `Bearer ${api.token}`, "content-type": "application/octet-stream" },
    body: tarGz([
      { path: "server.properties", content: "motd=drill\nmax-players=20\n" },
      { path: "plugins/readme.txt", content: "x".repeat(10_000) },
    ]),
  });
  expect([200, 201]).toContain(res.status);
  ok(await api.call("POST", "/api/v1/groups", { name: "lobby", minInstances: 0 }));
  ok(await api.call("POST", "/api/v1/groups", { name: "bedwars", minInstances: 0, maxInstances: 4 }));
  ok(
    await api.call("POST", "/api/v1/roles", {
      name: "SUPPORT",
      permissions: ["crashes.view", "groups.view"],
    }),
  );
  ok(
    await api.call("POST", "/api/v1/users", {
      username: "alice",
      password: "alice-password-1",
      role: "SUPPORT",
    }),
  );
  ok(await api.call("POST", "/api/v1/networks", { name: "main", lobbyGroup: "lobby" }));
}

/** Everything the drill compares, as the API shows it. */
async function state(api: AdminApi) {
  const get = async (path: string) => {
    const r = await api.call<Record<string, unknown>>("GET", path);
    expect(r.status).toBe(200);
    return r.body;
  };
  const templates = (await get("/api/v1/templates")) as { data: Array<{ name: string }> };
  const files: Record<string, unknown> = {};
  for (const t of templates.data) files[t.name] = await get(`/api/v1/templates/${t.name}/files`);
  const users = (await get("/api/v1/users")) as { data: Array<Record<string, unknown>> };
  return {
    groups: await get("/api/v1/groups?pageSize=500"),
    templates,
    files,
    users: users.data.map(({ lastLoginAt: _l, ...u }) => u),
    roles: await get("/api/v1/roles"),
    networks: await get("/api/v1/networks"),
  };
}

async function caFingerprint(api: AdminApi): Promise<string> {
  const r = await api.call<{ caFingerprint: string }>("POST", "/api/v1/admin/tokens", { ttlSeconds: 600 });
  expect(r.status).toBe(201);
  return r.body.caFingerprint;
}

describe.skipIf(Boolean(skip))("DR drill", () => {
  test("production pair: backup, verify, wipe, restore dry-run, restore, re-login, identical state", async () => {
    const database = randomId("drill_");
    const redisUri = `${redis.server!.uri}/9`;
    const inst = await install("production", {
      uri: mongo.server!.uri,
      database,
      redis: redisUri,
      secret: randomId("secret-") + randomId(),
    });
    let { proc, api } = await timed("start", () => start(inst));
    await timed("seed", () => seed(api));
    const before = await state(api);
    const ca = await caFingerprint(api);
    const created = await timed("backup", () =>
      api.call<{ id: string }>("POST", "/api/v1/backups", { scope: "full" }),
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    const verified = await timed("verify", () =>
      api.call<{ valid: boolean }>("POST", `/api/v1/backups/${id}/verify`),
    );
    expect(verified.body.valid).toBe(true);
    await stop(proc);

    // the disaster: the database dropped, Valkey flushed
    const client = await MongoClient.connect(mongo.server!.uri);
    await client.db(database).dropDatabase();
    await client.close();
    const raw = new Redis(redisUri);
    await raw.flushdb();
    raw.disconnect();

    ({ proc, api } = await timed("restart", () => start(inst)));
    const lost = await state(api);
    expect((lost.groups as { total: number }).total).toBe(0);
    expect(lost.templates.data).toEqual([]);
    expect(lost.users.map((u) => u.username)).toEqual(["admin"]);

    const dry = await api.call<{ dryRun: boolean }>("POST", "/api/v1/restore", { id, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(await state(api)).toEqual(lost);

    const restored = await timed("restore", () =>
      api.call<{ datastores: { applied: boolean } }>("POST", "/api/v1/restore", { id }),
    );
    expect(restored.status).toBe(200);
    expect(restored.body.datastores.applied).toBe(true);
    // the old token was issued before the restore: refused, log in again
    expect((await api.call("GET", "/api/v1/groups")).status).toBe(401);
    await api.login(PASSWORD);
    expect(await state(api)).toEqual(before);
    // the restored CA is the one daemons enrolled with, once the controller reloads it
    await stop(proc);
    ({ proc, api } = await start(inst));
    expect(await caFingerprint(api)).toBe(ca);
    expect(await state(api)).toEqual(before);
    await stop(proc);
  }, 120_000);

  test("embedded → production migration keeps groups, templates, users, roles, networks, audit and the CA", async () => {
    const embedded = await install("development");
    const { proc, api } = await timed("migrate-seed", async () => {
      const s = await start(embedded);
      await seed(s.api);
      return s;
    });
    const before = await state(api);
    const ca = await caFingerprint(api);
    const audit = await api.call<{ total: number }>("GET", "/api/v1/audit?pageSize=1");
    // offline DR tools refuse a store a controller holds...
    const busy = runBinary(["backup", "create", "--root", embedded.root]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("in use by another controller");
    await stop(proc);
    // ...and work on it directly once it is stopped
    const offline = runBinary(["backup", "create", "--root", embedded.root, "--scope", "full"]);
    expect(offline.code).toBe(0);
    const offlineId = offline.stdout.split(":")[0]!;
    expect(runBinary(["backup", "verify", offlineId, "--root", embedded.root]).code).toBe(0);
    const noYes = runBinary(["backup", "restore", offlineId, "--root", embedded.root]);
    expect(noYes.code).toBe(1);
    expect(noYes.stderr).toContain("--yes");
    const offlineRestore = runBinary(["backup", "restore", offlineId, "--root", embedded.root, "--yes"]);
    expect(offlineRestore.stderr).toBe("");
    expect(offlineRestore.code).toBe(0);
    const manifestFile = join(embedded.root, "backups", offlineId, "store/groups.ndjson");
    writeFileSync(manifestFile, `${readFileSync(manifestFile, "utf8")} `);
    const bad = runBinary(["backup", "verify", offlineId, "--root", embedded.root]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("store/groups.ndjson");

    const database = randomId("drill_m_");
    const redisUri = `${redis.server!.uri}/10`;
    const raw = new Redis(redisUri);
    await raw.flushdb();
    raw.disconnect();
    const secret = readFileSync(join(embedded.root, "config/security/cluster-secret"), "utf8").trim();
    const target = await install("production", { uri: mongo.server!.uri, database, redis: redisUri, secret });
    const migrated = await timed("migrate", async () =>
      runBinary(
        [
          "migrate",
          "--from-root",
          embedded.root,
          "--to-mongo",
          mongo.server!.uri,
          "--to-database",
          database,
          "--to-redis",
          redisUri,
          "--to-root",
          target.root,
        ],
        { timeoutMs: 60_000 },
      ),
    );
    expect(migrated.stderr).toBe("");
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain("migrated to");
    // the target's controller.yml is the production one written above, never the bundle's copy
    expect(readFileSync(join(target.root, "config/controller.yml"), "utf8")).toBe(target.yaml);

    const prod = await start(target);
    expect(await state(prod.api)).toEqual(before);
    expect(await caFingerprint(prod.api)).toBe(ca);
    const auditAfter = await prod.api.call<{ total: number }>("GET", "/api/v1/audit?pageSize=1");
    expect(auditAfter.body.total).toBeGreaterThanOrEqual(audit.body.total);
    await stop(prod.proc);

    // the lab copy: production → embedded, started as a development controller
    const lab = await install("development");
    const back = runBinary(
      [
        "migrate",
        "--from-mongo",
        mongo.server!.uri,
        "--from-database",
        database,
        "--from-redis",
        redisUri,
        "--files-root",
        target.root,
        "--to-root",
        lab.root,
      ],
      { timeoutMs: 60_000 },
    );
    expect(back.stderr).toBe("");
    expect(back.code).toBe(0);
    const labCtl = await start(lab);
    expect(await state(labCtl.api)).toEqual(before);
    expect(await caFingerprint(labCtl.api)).toBe(ca);
    await stop(labCtl.proc);
  }, 120_000);
});
