import { VERSION } from "../../version.ts";
import { ApiError, CliError, EXIT, UnreachableError } from "../errors.ts";

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** JSON body */
  body?: unknown;
  /** a body sent as is (archives); wins over `body` */
  rawBody?: Bun.BodyInit;
  contentType?: string;
  headers?: Record<string, string>;
  /** whole-request deadline; null for none (uploads with their own progress) */
  timeoutMs?: number | null;
  /** an endless body (SSE): the deadline covers getting the response headers only */
  stream?: boolean;
  /** send the bearer token (default true; login is the one call without) */
  auth?: boolean;
}

export interface HttpClientOptions {
  /** base URL, e.g. http://127.0.0.1:8080 */
  server: string;
  token?: string;
  timeoutMs: number;
}

/**
 * The one transport every command uses: base URL, bearer token, deadlines, and the translation of
 * failures into ApiError (the controller said no) or UnreachableError (nobody answered).
 */
export class HttpClient {
  readonly server: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;

  constructor(options: HttpClientOptions) {
    this.server = options.server.replace(/\/+$/, "");
    this.token = options.token;
    this.timeoutMs = options.timeoutMs;
  }

  url(path: string, query?: Query): string {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** Sends the request and returns the response when it is 2xx; throws otherwise. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      "user-agent": `prexorctl/${VERSION}`,
      accept: "application/json",
      ...options.headers,
    };
    if (options.auth !== false && this.token) headers.authorization = `Bearer ${this.token}`;
    let body: Bun.BodyInit | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers["content-type"] = options.contentType ?? "application/octet-stream";
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
    const timeoutMs = options.timeoutMs === undefined ? this.timeoutMs : options.timeoutMs;
    let response: Response;
    const connect = new AbortController();
    const timer =
      options.stream && timeoutMs !== null ? setTimeout(() => connect.abort(), timeoutMs) : undefined;
    const signal = options.stream
      ? connect.signal
      : timeoutMs !== null
        ? AbortSignal.timeout(timeoutMs)
        : undefined;
    try {
      response = await fetch(this.url(path, options.query), {
        method,
        headers,
        body,
        redirect: "follow",
        signal,
      });
    } catch (err) {
      throw this.unreachable(err, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const error = await toApiError(response, method, path);
      throw error.noRoute ? await this.confirmNoRoute(error) : error;
    }
    return response;
  }

  private routes: Promise<Map<string, RegExp[]> | undefined> | undefined;

  /**
   * A "no route" 404 is double-checked against the controller's OpenAPI document: some controller
   * builds answer a missing resource with the router's message, and "group not found" must not be
   * reported as "your controller is too old".
   */
  private async confirmNoRoute(error: ApiError): Promise<ApiError> {
    // Plain fetch, not send(): a controller without the document must not loop back in here.
    this.routes ??= fetch(this.url(OPENAPI_PATH), { signal: AbortSignal.timeout(this.timeoutMs) })
      .then(async (res): Promise<OpenApiDoc> => (res.ok ? ((await res.json()) as OpenApiDoc) : {}))
      .then((doc) => routePatterns(doc.paths ?? {}))
      // No document (or no controller) means we cannot tell: keep the original error as it is.
      .catch(() => undefined);
    const patterns = (await this.routes)?.get(error.method.toLowerCase());
    const path = error.path.split("?")[0]!;
    if (!patterns?.some((re) => re.test(path))) return error;
    return new ApiError(404, "NOT_FOUND", missingResource(path), error.method, error.path, error.requestId);
  }

  /** JSON in, JSON out; an empty 2xx body is returned as undefined. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw this.unreachable(err, options.timeoutMs ?? this.timeoutMs);
    }
    if (text === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(
        `the controller at ${this.server} answered ${method} ${path} with something that is not JSON`,
        EXIT.ERROR,
      );
    }
  }

  private unreachable(err: unknown, timeoutMs: number | null): UnreachableError {
    const e = err as { name?: string; code?: string; message?: string };
    if (e.name === "TimeoutError" || e.name === "AbortError") {
      return new UnreachableError(this.server, `no answer within ${Math.round((timeoutMs ?? 0) / 1000)} s`);
    }
    const reason =
      e.code === "ConnectionRefused" || e.code === "ECONNREFUSED"
        ? "connection refused (is the controller running, and is the URL right?)"
        : (e.message ?? String(err));
    return new UnreachableError(this.server, reason);
  }
}

const OPENAPI_PATH = "/api/v1/openapi.json";

interface OpenApiDoc {
  paths?: Record<string, Record<string, unknown>>;
}

/** OpenAPI path templates (`/api/v1/groups/{name}`) as one regular expression per segment shape. */
export function routePatterns(paths: Record<string, Record<string, unknown>>): Map<string, RegExp[]> {
  const byMethod = new Map<string, RegExp[]>();
  for (const [template, methods] of Object.entries(paths)) {
    const source = template
      .split("/")
      .map((part) => (/^\{.+\}$/.test(part) ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    for (const method of Object.keys(methods)) {
      const list = byMethod.get(method) ?? [];
      list.push(new RegExp(`^${source}$`));
      byMethod.set(method, list);
    }
  }
  return byMethod;
}

const RESOURCE_NAMES: Record<string, string> = {
  groups: "group",
  services: "instance",
  templates: "template",
  nodes: "node",
  tokens: "join token",
  networks: "network",
  users: "user",
  roles: "role",
  crashes: "crash",
  versions: "version",
};

/** `/api/v1/groups/lobby` → `group "lobby" not found`. */
export function missingResource(path: string): string {
  const parts = path
    .replace(/^\/api\/v1\//, "")
    .split("/")
    .map(decodeURIComponent);
  for (let i = parts.length - 1; i > 0; i--) {
    const kind = RESOURCE_NAMES[parts[i - 1]!];
    if (kind) return `${kind} "${parts[i]}" not found`;
  }
  return `${path} not found`;
}

/** Reads the error envelope; anything else (a proxy's HTML page) becomes a generic HTTP_<status>. */
export async function toApiError(response: Response, method: string, path: string): Promise<ApiError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // the status alone still says enough
  }
  try {
    const parsed = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; requestId?: unknown; details?: unknown } | string;
      message?: unknown;
    };
    const env = typeof parsed.error === "object" && parsed.error !== null ? parsed.error : undefined;
    const code = env?.code ?? (typeof parsed.error === "string" ? parsed.error : undefined);
    const message = env?.message ?? parsed.message;
    if (typeof code === "string") {
      return new ApiError(
        response.status,
        code,
        typeof message === "string" ? message : response.statusText,
        method,
        path,
        typeof env?.requestId === "string"
          ? env.requestId
          : (response.headers.get("x-request-id") ?? undefined),
        env?.details && typeof env.details === "object"
          ? (env.details as Record<string, unknown>)
          : undefined,
      );
    }
  } catch {
    // not JSON: fall through
  }
  const snippet = text.replace(/\s+/g, " ").trim().slice(0, 200);
  return new ApiError(
    response.status,
    `HTTP_${response.status}`,
    snippet || response.statusText || "request failed",
    method,
    path,
    response.headers.get("x-request-id") ?? undefined,
  );
}
