/**
 * The naming rules, once: a group, template, network or platform-catalog name, and a node id.
 * Schemas (REST bodies and params, group.yml, daemon.yml) use the patterns; code that checks a name
 * it did not get through a schema uses the predicates.
 */

/** Groups, templates, networks: 1–32 of a–z 0–9 _ -, not starting with '-'. */
export const RESOURCE_NAME_PATTERN = "^[a-z0-9_][a-z0-9_-]{0,31}$";
export const RESOURCE_NAME_HINT = "1–32 of a–z 0–9 _ -";

/** A node id: 1–63 of a–z 0–9 -, starting with a letter or digit (a DNS label). */
export const NODE_ID_PATTERN = "^[a-z0-9][a-z0-9-]{0,62}$";

const RESOURCE_NAME = new RegExp(RESOURCE_NAME_PATTERN);
const NODE_ID = new RegExp(NODE_ID_PATTERN);

export function isResourceName(value: string): boolean {
  return RESOURCE_NAME.test(value);
}

export function isNodeId(value: string): boolean {
  return NODE_ID.test(value);
}
