/** A node's state as the controller records and reports it (`GET /nodes`, NODE_STATUS events). */
export const NODE_STATES = ["ONLINE", "DRAINING", "UNREACHABLE", "OFFLINE"] as const;

export type NodeState = (typeof NODE_STATES)[number];
