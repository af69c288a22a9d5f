/**
 * Collections and their indexes, declared once and created by each adapter at open. TTL indexes
 * are deliberately absent: retention is pruned explicitly, which works on every store.
 */
export interface IndexSpec {
  name: string;
  fields: Array<[field: string, direction: 1 | -1]>;
  unique?: boolean;
}

const DECLARED = {
  users: [{ name: "email_unique", fields: [["email", 1]], unique: true }],
  roles: [],
  user_preferences: [],
  groups: [],
  templates: [],
  catalog: [],
  networks: [],
  deployments: [
    { name: "seq_unique", fields: [["seqId", 1]], unique: true },
    {
      name: "group_revision_unique",
      fields: [
        ["groupName", 1],
        ["revision", -1],
      ],
      unique: true,
    },
  ],
  deployment_heads: [],
  instances: [
    { name: "by_group", fields: [["group", 1]] },
    { name: "by_node", fields: [["node", 1]] },
    { name: "by_state", fields: [["state", 1]] },
  ],
  instance_composition_plans: [{ name: "by_created", fields: [["createdAt", -1]] }],
  crashes: [
    { name: "by_group", fields: [["groupName", 1]] },
    { name: "by_crashed_at", fields: [["crashedAt", -1]] },
  ],
  audit_log: [
    { name: "by_created", fields: [["createdAt", -1]] },
    { name: "by_username", fields: [["username", 1]] },
  ],
  nodes: [{ name: "by_state", fields: [["state", 1]] }],
  join_tokens: [{ name: "hash_unique", fields: [["hash", 1]], unique: true }],
  cert_revocations: [{ name: "by_expires", fields: [["expiresAt", 1]] }],
  cluster_files: [],
  workflow_transfers: [{ name: "by_created", fields: [["createdAt", 1]] }],
  workflow_drains: [{ name: "by_requested", fields: [["requestedAt", 1]] }],
  workflow_healing: [{ name: "by_created", fields: [["createdAt", 1]] }],
  workflow_start_retries: [{ name: "by_retry_at", fields: [["retryAt", 1]] }],
  console_lines: [
    {
      name: "by_instance_ts",
      fields: [
        ["instanceId", 1],
        ["ts", 1],
      ],
    },
  ],
  scale_actions: [],
  cluster_meta: [],
  crash_loops: [],
  group_pauses: [],
  player_journey: [],
  workload_tokens: [],
  /** a restore's own progress record; never part of a backup (bundle-format.ts UNBACKED_COLLECTIONS) */
  restore_journal: [],
} satisfies Record<string, IndexSpec[]>;

/**
 * The one list of the controller's collection names. Each owning module names its collection once,
 * as a constant that `satisfies CollectionName`, so a name cannot be spelled two ways or used
 * without its indexes declared here (tests/unit/store/collection-names.test.ts keeps literals out).
 * The port itself takes any name: backup and restore move collections they find by name.
 */
export type CollectionName = keyof typeof DECLARED;

export const COLLECTIONS: Readonly<Record<CollectionName, IndexSpec[]>> = DECLARED;

/** The indexes declared for a collection; a name not declared here has none. */
export function indexesOf(name: string): IndexSpec[] {
  return Object.hasOwn(COLLECTIONS, name) ? COLLECTIONS[name as CollectionName] : [];
}

/**
 * Cluster-wide singletons, one document each (the JWT secret, the forwarding secret, maintenance,
 * the network seed): shared by design, each document owned by the module that writes its id.
 */
export const CLUSTER_META = "cluster_meta" satisfies CollectionName;

/** Internal collections of the adapters themselves. */
export const FENCES_COLLECTION = "fences";
export const COUNTERS_COLLECTION = "counters";

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Collection names become table names in SQLite, so only a safe alphabet is accepted. */
export function checkCollectionName(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid collection name "${name}"`);
  return name;
}
