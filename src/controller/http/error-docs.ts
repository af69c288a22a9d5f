import { type WireCode, WireCodes } from "../../core/errors.ts";
import { requiresCaller } from "./guards.ts";
import type { RouteDef } from "./route-table.ts";

/** The envelope every error answer carries, published once in the OpenAPI components. */
export const ERROR_ENVELOPE_SCHEMA = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "requestId"],
      properties: {
        code: {
          type: "string",
          enum: Object.keys(WireCodes),
          description: Object.entries(WireCodes)
            .map(([code, { status, meaning }]) => `- \`${code}\` (${status}): ${meaning}`)
            .join("\n"),
        },
        message: { type: "string" },
        details: { type: "object", additionalProperties: true },
        requestId: { type: "string" },
      },
    },
  },
} as const;

const ENVELOPE_REF = { $ref: "#/components/schemas/ErrorEnvelope" };

function codesWithStatus(status: number): WireCode[] {
  return (Object.keys(WireCodes) as WireCode[]).filter((c) => WireCodes[c].status === status);
}

/**
 * The error answers a route can give, by status, each naming the catalogue codes it may carry.
 * Every route can be refused by the shared middleware (subnet 403, size 413, rate 429, outages
 * 503, 500); the rest follow from what the route declares (credentials, body, query, params).
 */
export function errorResponsesFor(route: RouteDef): Record<string, unknown> {
  const statuses = new Set<number>([403, 405, 413, 429, 500, 503]);
  if (requiresCaller(route.access) || route.access === "ticket" || route.access === "workload")
    statuses.add(401);
  if (route.body || route.rawBody || route.query || route.params) statuses.add(422);
  if (route.body || route.rawBody) {
    statuses.add(400);
    statuses.add(415);
  }
  if (route.method !== "GET" || route.params) {
    statuses.add(404);
    statuses.add(409);
  }
  if (route.params) statuses.add(404);
  const out: Record<string, unknown> = {};
  for (const status of [...statuses].sort()) {
    const codes = codesWithStatus(status);
    out[String(status)] = {
      description: `Error envelope; code one of ${codes.join(", ")}`,
      content: { "application/json": { schema: ENVELOPE_REF } },
    };
  }
  return out;
}

/** `{data, page, pageSize, total}`: what every paged list route answers (spec §4 "Lists"). */
export const LIST_ENVELOPE_SCHEMA = {
  type: "object",
  required: ["data", "page", "pageSize", "total"],
  properties: {
    data: { type: "array" },
    page: { type: "integer", minimum: 1 },
    pageSize: { type: "integer", minimum: 1 },
    total: { type: "integer", minimum: 0 },
  },
} as const;

/**
 * The success answer a route documents, where one shape holds for the route's kind: paged list
 * routes (a `page` and `pageSize` query) answer the list envelope, which the fuzz run then checks.
 */
export function successResponsesFor(route: RouteDef): Record<string, unknown> {
  const query = route.query as { properties?: Record<string, unknown> } | undefined;
  if (route.method === "GET" && query?.properties?.page && query.properties.pageSize) {
    return {
      "200": {
        description: "One page of the list",
        content: { "application/json": { schema: LIST_ENVELOPE_SCHEMA } },
      },
    };
  }
  return {};
}
