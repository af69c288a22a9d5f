/**
 * What the controller's REST API returns. Shapes with a TypeBox schema come from src/api/ (the same
 * schemas the routes declare and the OpenAPI document shows) or from the core domain; nothing here
 * reaches into the controller.
 * Resources whose routes are still being built are typed by the spec with an index signature, so
 * an extra field never breaks the CLI and a missing one prints as "-".
 */

import type { Maintenance, MaintenanceUpdate } from "../../api/maintenance.ts";
import type { NetworkSpec } from "../../api/networks.ts";
import type { JourneyEntry, PlayerView, TransferView } from "../../api/players.ts";
import type { DeploymentView } from "../../controller/deployments/deployment-doc.ts";
import type { GroupPatch, GroupSpec } from "../../core/groups/group-schema.ts";
import type { InstanceState } from "../../core/lifecycle/instance-state.ts";

export type {
  GroupPatch,
  GroupSpec,
  InstanceState,
  JourneyEntry,
  Maintenance,
  MaintenanceUpdate,
  NetworkSpec,
};

export interface ListPage<T> {
  data: T[];
  page: number;
  pageSize: number;
  total: number;
}

/** Why a group is paused (GET /groups, /groups/{name}); null when nothing holds it. */
export interface GroupPause {
  kind: "failure" | "crash-loop";
  code: string;
  reason: string;
  since: string;
  instanceId?: string;
  until?: string;
}

export type Group = GroupSpec & { createdAt: string; updatedAt: string; pause?: GroupPause | null };

/** The part of GET /scheduler the CLI reads: each group's status and reason from the last tick. */
export interface SchedulerView {
  intervalSeconds: number;
  lastTick: null | {
    at: string;
    groups: Array<{ group: string; status: string; reason: string; running: number; active: number }>;
  };
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  user: User;
}

export interface User {
  username: string;
  role: string;
  email: string | null;
  createdAt: string;
  lastLoginAt: string | null;
  /** the bootstrap admin until it sets its own password (older controllers omit it) */
  mustChangePassword?: boolean;
}

export type Me = User & { permissions: string[] };

export interface Role {
  name: string;
  permissions: string[];
  builtIn: boolean;
  description?: string;
}

export interface AuditEntry {
  id: string;
  username: string;
  action: string;
  resourceType: string;
  resourceId: string;
  details: unknown;
  before?: unknown;
  after?: unknown;
  ipAddress: string;
  requestId: string;
  createdAt: string;
}

export interface VersionInfo {
  version: string;
  gitCommit: string;
  protocolVersion: number;
  runtime?: string;
  os?: string;
  arch?: string;
}

export interface Readiness {
  status: "UP" | "DOWN";
  checks?: Record<string, string>;
  store?: string;
  coordinationKind?: string;
}

export interface Status {
  status: string;
}

export interface NodeView {
  id: string;
  state: string;
  connected?: boolean;
  cordoned?: boolean;
  address?: string;
  labels?: Record<string, string>;
  capacity?: { cpuUsage?: number; totalMemoryMb?: number; usedMemoryMb?: number };
  instanceCount?: number;
  lastSeen?: string | null;
  daemonVersion?: string;
  [key: string]: unknown;
}

export interface Instance {
  id: string;
  group: string;
  nodeId?: string | null;
  state: InstanceState | string;
  port?: number | null;
  playerCount?: number;
  startedAt?: string | null;
  uptimeMs?: number;
  [key: string]: unknown;
}

export interface ConsoleLine {
  line: string;
  timestampMs?: number;
}

export interface Template {
  name: string;
  description?: string;
  platform?: string | null;
  currentHash?: string | null;
  [key: string]: unknown;
}

export interface TemplateVersion {
  hash: string;
  fileCount?: number;
  sizeBytes?: number;
  createdBy?: string;
  /** epoch ms or ISO, depending on the controller build */
  createdAt?: string | number;
  [key: string]: unknown;
}

export interface JoinToken {
  tokenId: string;
  /** null: the daemon may enrol under any id */
  nodeId: string | null;
  /** PENDING, CONSUMED, EXPIRED or REVOKED */
  status?: string;
  expiresAt: string;
  createdBy?: string;
  /** only in the answer to create; the controller keeps a hash */
  token?: string;
  [key: string]: unknown;
}

export interface Crash {
  id: string;
  instanceId: string;
  group: string;
  node?: string;
  exitCode?: number | null;
  signal?: string | null;
  classification?: string;
  causeSummary?: string;
  crashedAt?: string;
  logTail?: string[];
  [key: string]: unknown;
}

export interface CatalogEntry {
  platform: string;
  version: string;
  recommended?: boolean;
  sha256?: string;
  source?: { kind: "url"; url: string } | { kind: "controller"; file: string } | null;
  ready?: boolean;
  build?: number | null;
  origin?: string;
  [key: string]: unknown;
}

export type Player = PlayerView;
export type TransferIntent = TransferView;

/** A deployment as `GET /groups/{name}/deployments/{rev}` answers it. */
export type Deployment = DeploymentView;

export interface DeployRequest {
  strategy?: "ROLLING" | "CANARY" | "BLUE_GREEN";
  templates?: Record<string, string>;
  batchSize?: number;
  maxUnavailable?: number;
  maxSurge?: number;
  canaryInstances?: number;
  canaryPercent?: number;
  healthGateEnabled?: boolean;
  minHealthySeconds?: number;
  promotionTimeoutSeconds?: number;
  replacementTimeoutSeconds?: number;
  autoRollbackOnFailure?: boolean;
  minHealthyTps?: number;
  drainTimeoutSeconds?: number;
}
