import { type WireCode, WireCodes } from "../../core/errors.ts";
import { requiresCaller } from "./guards.ts";
import type { RouteDef, RouteTable } from "./route-table.ts";

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

/** One server-sent event as a client parses it (what a text/event-stream answer's schema describes). */
const SSE_EVENT_SCHEMA = {
  type: "object",
  required: ["data"],
  properties: {
    event: { type: "string" },
    data: { type: "string" },
    id: { type: "string" },
    retry: { type: "integer", minimum: 0 },
  },
} as const;

/**
 * The success answers a route documents: its declared response schema under each success
 * status (the fuzz run checks answers against it), or a raw route's media type.
 */
export function successResponsesFor(route: RouteDef): Record<string, unknown> {
  const statuses =
    route.status === undefined ? [200] : typeof route.status === "number" ? [route.status] : route.status;
  const out: Record<string, unknown> = {};
  for (const status of statuses) {
    if (route.raw) {
      const type = route.rawType ?? "application/octet-stream";
      out[String(status)] = {
        description: route.summary,
        content: { [type]: { schema: type === "text/event-stream" ? SSE_EVENT_SCHEMA : { type: "string" } } },
      };
    } else if (route.response && route.response !== "none") {
      out[String(status)] = {
        description: route.summary,
        content: { "application/json": { schema: route.response } },
      };
    }
  }
  return out;
}

/**
 * A JSON body's documentation. A property with a default is filled in when absent, so the client
 * need not send it: the document lists as required only what has no default (the validator keeps
 * its own schema).
 */
function requestBodyDoc(body: unknown): Record<string, unknown> {
  return { required: true, content: { "application/json": { schema: withDefaultsOptional(body) } } };
}

function withDefaultsOptional(schema: unknown): unknown {
  const s = schema as {
    type?: string;
    required?: string[];
    properties?: Record<string, { default?: unknown }>;
  };
  if (s?.type !== "object" || !s.properties || !s.required) return schema;
  const properties = s.properties;
  const required = s.required.filter((key) => properties[key]?.default === undefined);
  const { required: _all, ...rest } = s;
  return required.length > 0 ? { ...rest, required } : rest;
}

const documented = new WeakSet<object>();

/** Puts every JSON route's request body into the generated document (idempotent per document). */
export function documentRequestBodies(doc: unknown, routes: RouteTable): void {
  if (typeof doc !== "object" || doc === null || documented.has(doc)) return;
  documented.add(doc);
  const paths = (doc as { paths?: Record<string, Record<string, Record<string, unknown>>> }).paths ?? {};
  for (const route of routes.routes) {
    if (!route.body) continue;
    const operation = paths[route.path.replace(/:([^/]+)/g, "{$1}")]?.[route.method.toLowerCase()];
    if (operation) operation.requestBody = requestBodyDoc(route.body);
  }
}
