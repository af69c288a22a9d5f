import { AppError } from "../errors.ts";
import type { GroupSpec } from "./group-schema.ts";

/** The parts of other groups the rules need. */
export interface GroupRef {
  name: string;
  parent: string | null;
  dependsOn: string[];
}

const MAX_PARENT_DEPTH = 10;

/**
 * Cross-field and cross-group rules the schema cannot express. All problems are collected and
 * reported together, each with the field it concerns.
 */
export function checkGroup(group: GroupSpec, others: GroupRef[]): void {
  const problems: Array<{ field: string; message: string }> = [];
  const names = new Set(others.map((g) => g.name));
  names.add(group.name);
  if (group.minInstances > group.maxInstances) {
    problems.push({
      field: "minInstances",
      message: `minInstances (${group.minInstances}) exceeds maxInstances (${group.maxInstances})`,
    });
  }
  if (group.portRangeStart > group.portRangeEnd) {
    problems.push({
      field: "portRangeStart",
      message: `port range ${group.portRangeStart}–${group.portRangeEnd} is empty`,
    });
  }
  for (const t of group.templates) {
    if (t === "base" || t.startsWith("base-") || t === group.name) {
      problems.push({
        field: "templates",
        message: `"${t}" is added to the chain automatically; list only extra templates`,
      });
    }
  }
  const both = group.nodeAffinity.filter((a) => group.nodeAntiAffinity.includes(a));
  if (both.length > 0)
    problems.push({
      field: "nodeAntiAffinity",
      message: `${both.join(", ")} is both required and forbidden`,
    });
  if (group.fallbackGroup && !names.has(group.fallbackGroup)) {
    problems.push({ field: "fallbackGroup", message: `unknown group "${group.fallbackGroup}"` });
  }
  if (group.parent !== null) {
    if (group.parent === group.name)
      problems.push({ field: "parent", message: "a group cannot be its own parent" });
    else if (!names.has(group.parent))
      problems.push({ field: "parent", message: `unknown group "${group.parent}"` });
  }
  for (const dep of group.dependsOn) {
    if (dep === group.name) problems.push({ field: "dependsOn", message: "a group cannot depend on itself" });
    else if (!names.has(dep)) problems.push({ field: "dependsOn", message: `unknown group "${dep}"` });
  }
  if (group.platform === "CUSTOM" && group.argvTemplate.length === 0) {
    problems.push({ field: "argvTemplate", message: "the CUSTOM platform needs an argvTemplate" });
  }
  const graph = new Map(others.filter((g) => g.name !== group.name).map((g) => [g.name, g]));
  graph.set(group.name, { name: group.name, parent: group.parent, dependsOn: group.dependsOn });
  const cycle = findDependencyCycle(graph, group.name);
  if (cycle) problems.push({ field: "dependsOn", message: `dependency cycle: ${cycle.join(" → ")}` });
  const parentProblem = checkParentChain(graph, group.name);
  if (parentProblem) problems.push({ field: "parent", message: parentProblem });
  if (problems.length > 0) {
    throw new AppError("INVALID_ARGUMENT", problems.map((p) => `${p.field}: ${p.message}`).join("; "), {
      problems,
    });
  }
}

/** A dependency cycle through `start`, as the list of names that form it (first repeated last). */
export function findDependencyCycle(graph: Map<string, GroupRef>, start: string): string[] | null {
  const path: string[] = [];
  const onPath = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string): string[] | null => {
    if (onPath.has(name)) return [...path.slice(path.indexOf(name)), name];
    if (done.has(name)) return null;
    onPath.add(name);
    path.push(name);
    for (const dep of graph.get(name)?.dependsOn ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    onPath.delete(name);
    done.add(name);
    return null;
  };
  return visit(start);
}

function checkParentChain(graph: Map<string, GroupRef>, start: string): string | null {
  const seen = [start];
  let current = graph.get(start)?.parent ?? null;
  while (current !== null) {
    if (seen.includes(current)) return `parent cycle: ${[...seen, current].join(" → ")}`;
    seen.push(current);
    if (seen.length > MAX_PARENT_DEPTH + 1) return `inheritance deeper than ${MAX_PARENT_DEPTH} levels`;
    current = graph.get(current)?.parent ?? null;
  }
  return null;
}

/** Groups that still point at `name`, which therefore cannot be deleted. */
export function referencesTo(
  name: string,
  groups: Array<GroupRef & { fallbackGroup?: string | null }>,
): string[] {
  return groups
    .filter(
      (g) => g.name !== name && (g.parent === name || g.dependsOn.includes(name) || g.fallbackGroup === name),
    )
    .map((g) => g.name);
}
