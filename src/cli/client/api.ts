import type { HttpClient, Query } from "./http.ts";
import type {
  AuditEntry,
  CatalogEntry,
  Crash,
  Deployment,
  DeployRequest,
  Group,
  GroupPatch,
  GroupSpec,
  Instance,
  JoinToken,
  JourneyEntry,
  ListPage,
  LoginResult,
  Maintenance,
  Me,
  NetworkSpec,
  NodeView,
  Player,
  Readiness,
  Role,
  SchedulerView,
  Status,
  Template,
  TemplateVersion,
  TransferIntent,
  User,
  VersionInfo,
} from "./types.ts";

const V1 = "/api/v1";

export interface BackupSummary {
  id: string;
  createdAt: number;
  scope: string;
  documentCount: number;
  sizeBytes: number;
  fileCount: number;
}
export interface BackupManifest extends BackupSummary {
  files: unknown[];
}
export interface BackupVerify {
  id: string;
  valid: boolean;
  missingFiles: string[];
  mismatchedFiles: string[];
  problems: Array<{ file: string; reason: string }>;
}
export interface BackupActivity {
  kind: string;
  phase: string;
  documents: number;
  bytes: number;
  totalDocuments: number | null;
  totalBytes: number | null;
}
export interface RestoreAnswer {
  bundle: string;
  dryRun: boolean;
  datastores: {
    applied: boolean;
    documents: number;
    collections: Array<{ name: string; action: string; documents: number; currentDocuments: number }>;
  };
  filesystem: { applied: boolean; entryCount: number };
  notes: string[];
}
const seg = encodeURIComponent;

/** Upper bound on pages fetched for one listing, so a misbehaving server cannot loop us forever. */
const MAX_PAGES = 200;

/**
 * Follows `page` until `total` is reached. Lists are small (hundreds of groups, not millions), so
 * commands show everything instead of making the operator page by hand.
 */
async function listAll<T>(http: HttpClient, path: string, pageSize: number, query: Query = {}): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const res = await http.json<ListPage<T> | { data: T[] }>("GET", path, {
      query: { ...query, page, pageSize },
    });
    all.push(...res.data);
    const total = "total" in res && typeof res.total === "number" ? res.total : all.length;
    if (res.data.length === 0 || all.length >= total || !("total" in res)) break;
  }
  return all;
}

/** Every REST call prexorctl makes, typed; commands never build URLs themselves. */
export function createApi(http: HttpClient) {
  return {
    http,
    system: {
      version: () => http.json<VersionInfo>("GET", `${V1}/system/version`, { auth: false }),
      ready: async (): Promise<Readiness> => {
        // 503 still carries the readiness body; it is an answer, not a failure.
        try {
          return await http.json<Readiness>("GET", `${V1}/system/ready`, { auth: false });
        } catch (err) {
          if ((err as { status?: number }).status === 503) return { status: "DOWN" };
          throw err;
        }
      },
    },
    auth: {
      login: (username: string, password: string) =>
        http.json<LoginResult>("POST", `${V1}/auth/login`, { body: { username, password }, auth: false }),
      logout: () => http.json<Status>("POST", `${V1}/auth/logout`),
      me: () => http.json<Me>("GET", `${V1}/auth/me`),
      changePassword: (currentPassword: string, newPassword: string) =>
        http.json<Status>("POST", `${V1}/auth/change-password`, { body: { currentPassword, newPassword } }),
    },
    deployments: {
      deploy: (group: string, body: DeployRequest) =>
        http.json<Deployment>("POST", `${V1}/groups/${seg(group)}/deploy`, { body }),
      list: (group: string, page?: number, pageSize?: number) =>
        http.json<ListPage<Deployment>>("GET", `${V1}/groups/${seg(group)}/deployments`, {
          query: { page, pageSize },
        }),
      get: (group: string, rev: number) =>
        http.json<Deployment>("GET", `${V1}/groups/${seg(group)}/deployments/${rev}`),
      pause: (group: string, rev: number) =>
        http.json<Deployment>("POST", `${V1}/groups/${seg(group)}/deployments/${rev}/pause`),
      resume: (group: string, rev: number) =>
        http.json<Deployment>("POST", `${V1}/groups/${seg(group)}/deployments/${rev}/resume`),
      rollback: (group: string, rev: number) =>
        http.json<Deployment>("POST", `${V1}/groups/${seg(group)}/deployments/${rev}/rollback`),
      saveToTemplate: (instance: string, template: string) =>
        http.json<{ files: string[]; skipped: string[]; version: { hash: string } }>(
          "POST",
          `${V1}/services/${seg(instance)}/save-to-template`,
          { body: { template } },
        ),
    },
    groups: {
      list: () => listAll<Group>(http, `${V1}/groups`, 500),
      total: async () =>
        (await http.json<ListPage<Group>>("GET", `${V1}/groups`, { query: { pageSize: 1 } })).total,
      get: (name: string) => http.json<Group>("GET", `${V1}/groups/${seg(name)}`),
      resolved: (name: string) => http.json<Group>("GET", `${V1}/groups/${seg(name)}/resolved`),
      create: (spec: Partial<GroupSpec> & { name: string }) =>
        http.json<Group>("POST", `${V1}/groups`, { body: spec }),
      update: (name: string, patch: GroupPatch) =>
        http.json<Group>("PATCH", `${V1}/groups/${seg(name)}`, { body: patch }),
      delete: (name: string) => http.json<Status>("DELETE", `${V1}/groups/${seg(name)}`),
      start: (name: string, count?: number) =>
        http.json<unknown>("POST", `${V1}/groups/${seg(name)}/start`, { query: { count } }),
      restart: (name: string) => http.json<Deployment>("POST", `${V1}/groups/${seg(name)}/restart`),
      resume: (name: string) => http.json<Status>("POST", `${V1}/groups/${seg(name)}/resume`),
    },
    scheduler: {
      get: () => http.json<SchedulerView>("GET", `${V1}/scheduler`),
    },
    instances: {
      list: (filter: { group?: string; node?: string; state?: string }) =>
        listAll<Instance>(http, `${V1}/services`, 500, filter),
      total: async (state?: string) =>
        (await http.json<ListPage<Instance>>("GET", `${V1}/services`, { query: { pageSize: 1, state } }))
          .total,
      get: (id: string) => http.json<Instance>("GET", `${V1}/services/${seg(id)}`),
      stop: (id: string, force: boolean) =>
        http.json<unknown>("POST", `${V1}/services/${seg(id)}/${force ? "force-stop" : "stop"}`),
      command: (id: string, command: string) =>
        http.json<unknown>("POST", `${V1}/services/${seg(id)}/command`, { body: { command } }),
      history: (id: string, limit: number) =>
        http.json<unknown>("GET", `${V1}/services/${seg(id)}/console/history`, { query: { limit } }),
      consolePath: (id: string) => `${V1}/services/${seg(id)}/console`,
    },
    templates: {
      list: () => listAll<Template>(http, `${V1}/templates`, 200),
      get: (name: string) => http.json<Template>("GET", `${V1}/templates/${seg(name)}`),
      create: (body: { name: string; description?: string; platform?: string | null }) =>
        http.json<Template>("POST", `${V1}/templates`, { body }),
      delete: (name: string) => http.json<Status>("DELETE", `${V1}/templates/${seg(name)}`),
      versions: async (name: string) =>
        (await http.json<{ data: TemplateVersion[] }>("GET", `${V1}/templates/${seg(name)}/versions`)).data,
      upload: (name: string, body: Bun.BodyInit, length: number) =>
        http.json<TemplateVersion>("POST", `${V1}/templates/${seg(name)}/versions`, {
          rawBody: body,
          contentType: "application/gzip",
          headers: { "content-length": String(length) },
          // the progress bar shows it is alive; a deadline would cut large uploads on slow links
          timeoutMs: null,
        }),
      export: (name: string, version?: string) =>
        http.send("GET", `${V1}/templates/${seg(name)}/export`, {
          query: { version },
          headers: { accept: "application/gzip" },
          timeoutMs: null,
        }),
      rollback: (name: string, hash?: string) =>
        http.json<{ from: string; to: string }>("POST", `${V1}/templates/${seg(name)}/rollback`, {
          body: hash ? { hash } : {},
        }),
    },
    nodes: {
      list: (state?: string) => listAll<NodeView>(http, `${V1}/nodes`, 500, { state }),
      get: (id: string) => http.json<NodeView>("GET", `${V1}/nodes/${seg(id)}`),
      cordon: (id: string) => http.json<unknown>("POST", `${V1}/nodes/${seg(id)}/cordon`),
      uncordon: (id: string) => http.json<unknown>("POST", `${V1}/nodes/${seg(id)}/uncordon`),
      drain: (id: string, q: { shutdown: boolean; timeout: number; kickMessage?: string }) =>
        http.json<unknown>("POST", `${V1}/nodes/${seg(id)}/drain`, { query: q }),
      undrain: (id: string) => http.json<unknown>("POST", `${V1}/nodes/${seg(id)}/undrain`),
      revokeCert: (id: string, ttlDays?: number) =>
        http.json<unknown>("POST", `${V1}/nodes/${seg(id)}/revoke-cert`, { query: { ttlDays } }),
    },
    joinTokens: {
      create: (nodeId: string, ttlSeconds: number) =>
        http.json<JoinToken>("POST", `${V1}/admin/tokens`, { body: { nodeId, ttlSeconds } }),
      list: () => listAll<JoinToken>(http, `${V1}/admin/tokens`, 100),
      revoke: (id: string) => http.json<unknown>("DELETE", `${V1}/admin/tokens/${seg(id)}`),
    },
    networks: {
      list: () => listAll<NetworkSpec>(http, `${V1}/networks`, 500),
      get: (name: string) => http.json<NetworkSpec>("GET", `${V1}/networks/${seg(name)}`),
      create: (spec: Partial<NetworkSpec>) =>
        http.json<NetworkSpec>("POST", `${V1}/networks`, { body: spec }),
      replace: (name: string, spec: NetworkSpec) =>
        http.json<NetworkSpec>("PUT", `${V1}/networks/${seg(name)}`, { body: spec }),
      delete: (name: string) => http.json<Status>("DELETE", `${V1}/networks/${seg(name)}`),
    },
    users: {
      list: () => listAll<User>(http, `${V1}/users`, 200),
      get: (username: string) => http.json<User>("GET", `${V1}/users/${seg(username)}`),
      create: (body: { username: string; password: string; role?: string; email?: string }) =>
        http.json<User>("POST", `${V1}/users`, { body }),
      update: (username: string, body: { role?: string; email?: string | null; password?: string }) =>
        http.json<User>("PATCH", `${V1}/users/${seg(username)}`, { body }),
      delete: (username: string) => http.json<Status>("DELETE", `${V1}/users/${seg(username)}`),
    },
    roles: {
      list: () => listAll<Role>(http, `${V1}/roles`, 100),
      get: (name: string) => http.json<Role>("GET", `${V1}/roles/${seg(name)}`),
      create: (body: { name: string; permissions: string[]; description?: string }) =>
        http.json<Role>("POST", `${V1}/roles`, { body }),
      update: (name: string, body: { permissions?: string[]; description?: string }) =>
        http.json<Role>("PATCH", `${V1}/roles/${seg(name)}`, { body }),
      delete: (name: string) => http.json<Status>("DELETE", `${V1}/roles/${seg(name)}`),
    },
    players: {
      list: () => listAll<Player>(http, `${V1}/players`, 500),
      get: (uuid: string) => http.json<Player>("GET", `${V1}/players/${seg(uuid)}`),
      journey: async (uuid: string, q: { limit?: number; since?: string }) =>
        (await http.json<{ data: JourneyEntry[] }>("GET", `${V1}/players/${seg(uuid)}/journey`, { query: q }))
          .data,
      transfer: (uuid: string, targetInstanceId: string) =>
        http.json<{ status: string; transfer: TransferIntent }>(
          "POST",
          `${V1}/players/${seg(uuid)}/transfer`,
          {
            body: { targetInstanceId },
          },
        ),
    },
    crashes: {
      list: (q: { group?: string; node?: string; pageSize: number }) =>
        http.json<ListPage<Crash>>("GET", `${V1}/crashes`, {
          query: { group: q.group, node: q.node, page: 1, pageSize: q.pageSize },
        }),
      get: (id: string) => http.json<Crash>("GET", `${V1}/crashes/${seg(id)}`),
    },
    audit: {
      query: (q: Query) => http.json<ListPage<AuditEntry>>("GET", `${V1}/audit`, { query: q }),
    },
    catalog: {
      list: () => listAll<CatalogEntry>(http, `${V1}/catalog`, 100),
      add: (
        platform: string,
        body: { version: string; sha256?: string; url?: string; recommended?: boolean },
      ) =>
        http.json<CatalogEntry>("POST", `${V1}/catalog/${seg(platform)}/versions`, {
          body,
          // resolving from PaperMC's downloads API can take the API's own timeout
          timeoutMs: null,
        }),
      remove: (platform: string, version: string) =>
        http.json<Status>("DELETE", `${V1}/catalog/${seg(platform)}/versions/${seg(version)}`),
      recommend: (platform: string, version: string) =>
        http.json<CatalogEntry>("PUT", `${V1}/catalog/${seg(platform)}/versions/${seg(version)}/recommended`),
      upload: (platform: string, version: string, body: Bun.BodyInit, length: number) =>
        http.json<CatalogEntry>("PUT", `${V1}/catalog/${seg(platform)}/versions/${seg(version)}/artifact`, {
          query: { create: true },
          rawBody: body,
          headers: { "content-length": String(length) },
          timeoutMs: null,
        }),
    },
    maintenance: {
      get: () => http.json<Maintenance>("GET", `${V1}/maintenance`),
      set: (enabled: boolean, message?: string) =>
        http.json<Maintenance>("PUT", `${V1}/maintenance`, {
          body: message === undefined ? { enabled } : { enabled, message },
        }),
    },
    backups: {
      list: async () => (await http.json<{ data: BackupSummary[] }>("GET", `${V1}/backups`)).data,
      get: (id: string) => http.json<Record<string, unknown>>("GET", `${V1}/backups/${seg(id)}`),
      // a large store takes a while: the progress bar shows it is alive, so no deadline
      create: (scope: string) =>
        http.json<BackupManifest>("POST", `${V1}/backups`, { body: { scope }, timeoutMs: null }),
      verify: (id: string) =>
        http.json<BackupVerify>("POST", `${V1}/backups/${seg(id)}/verify`, { timeoutMs: null }),
      prune: (keep?: number) =>
        http.json<{ keep: string[]; remove: string[] }>("POST", `${V1}/backups/prune`, {
          query: keep === undefined ? {} : { keep },
        }),
      delete: (id: string) => http.json<Status>("DELETE", `${V1}/backups/${seg(id)}`),
      progress: async () =>
        (await http.json<{ active: BackupActivity | null }>("GET", `${V1}/backups/progress`)).active,
      restore: (body: { id: string; dryRun: boolean; filesystem: boolean; datastores: boolean }) =>
        http.json<RestoreAnswer>("POST", `${V1}/restore`, { body, timeoutMs: null }),
    },
    events: {
      ticket: async () => (await http.json<{ ticket: string }>("POST", `${V1}/events/ticket`)).ticket,
      streamPath: `${V1}/events/stream`,
    },
  };
}

export type Api = ReturnType<typeof createApi>;
