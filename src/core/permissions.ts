/**
 * Flat permission strings, resolved from the caller's role on every request (never carried in a
 * token), so a role edit applies at once.
 */
export const PERMISSIONS = [
  "nodes.view",
  "nodes.drain",
  "nodes.revoke-cert",
  "nodes.shutdown",
  "groups.view",
  "groups.create",
  "groups.update",
  "groups.delete",
  "groups.start",
  "instances.view",
  "instances.stop",
  "instances.command",
  "instances.delete",
  "instances.console",
  "players.view",
  "players.transfer",
  "networks.view",
  "networks.create",
  "networks.update",
  "networks.delete",
  "templates.view",
  "templates.create",
  "templates.update",
  "templates.delete",
  "crashes.view",
  "share.invoke",
  "share.revoke",
  "tokens.view",
  "tokens.create",
  "tokens.revoke",
  "users.view",
  "users.create",
  "users.update",
  "users.delete",
  "roles.view",
  "roles.manage",
  "modules.view",
  "modules.manage",
  "catalog.view",
  "catalog.manage",
  "audit.view",
  "system.settings",
  "system.logs.view",
  "system.shutdown",
  "metrics.view",
  "events.stream",
  "events.view",
  "backups.view",
  "backups.manage",
  "backups.restore",
  "cluster.view",
  "cluster.config.write",
  "cluster.manage",
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const ALL = new Set<string>(PERMISSIONS);
export function isPermission(value: string): value is Permission {
  return ALL.has(value);
}

const VIEW_ALL = [
  "nodes",
  "groups",
  "networks",
  "instances",
  "players",
  "templates",
  "crashes",
  "modules",
  "catalog",
  "metrics",
].map((r) => `${r}.view` as Permission);

export const BUILT_IN_ROLES: Record<string, readonly Permission[]> = {
  // Cluster membership changes can strand a deployment, so even ADMIN must be granted them explicitly.
  ADMIN: PERMISSIONS.filter((p) => p !== "cluster.manage"),
  OPERATOR: [
    "nodes.view",
    "nodes.drain",
    "groups.view",
    "groups.create",
    "groups.update",
    "groups.start",
    "networks.view",
    "networks.create",
    "networks.update",
    "instances.view",
    "instances.stop",
    "instances.command",
    "instances.console",
    "players.view",
    "players.transfer",
    "templates.view",
    "templates.create",
    "templates.update",
    "crashes.view",
    "tokens.view",
    "modules.view",
    "catalog.view",
    "metrics.view",
    "events.stream",
    "events.view",
    "share.invoke",
    "share.revoke",
  ],
  VIEWER: [...VIEW_ALL, "instances.console", "events.stream", "events.view"],
  DAEMON_HOST: [
    ...VIEW_ALL.filter((p) => p !== "catalog.view"),
    "instances.stop",
    "instances.command",
    "instances.console",
  ],
};

export const ROLE_NAME = /^[A-Z][A-Z0-9_]{0,31}$/;

export function isBuiltInRole(name: string): boolean {
  return Object.hasOwn(BUILT_IN_ROLES, name);
}
