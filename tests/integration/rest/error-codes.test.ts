import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { toEnvelope } from "../../../src/controller/http/error-envelope.ts";
import {
  AppError,
  type ErrorCode,
  InternalKinds,
  type WireCode,
  WireCodes,
  wireCodeOf,
} from "../../../src/core/errors.ts";
import { startTestController, type TestController } from "../../support/controller.ts";

const SRC = join(import.meta.dir, "../../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !p.includes("/src/proto/"));
}

/** Every code an AppError is constructed with anywhere in src (one line or wrapped). */
function thrownCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of sourceFiles(SRC)) {
    for (const m of readFileSync(file, "utf8").matchAll(/new AppError\(\s*"([A-Z_]+)"/g)) codes.add(m[1]!);
  }
  return codes;
}

interface Envelope {
  error: { code: string; message: string; requestId: string; details?: Record<string, unknown> };
}

/** fetch refuses TRACE; node:http sends it as a client on the wire would. */
function nodeRequest(url: string, method: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve(
          new Response(Buffer.concat(chunks), {
            status: res.statusCode,
            headers: res.headers as Record<string, string>,
          }),
        ),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

let ctl: TestController;
let token: string;
let openapi: {
  components: {
    schemas: { ErrorEnvelope: { properties: { error: { properties: { code: { enum: string[] } } } } } };
  };
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
};

beforeAll(async () => {
  ctl = await startTestController();
  token = await ctl.login();
  openapi = (await (await ctl.call("GET", "/api/v1/openapi.json")).json()) as typeof openapi;
});
afterAll(() => ctl.stop());

describe("error codes", () => {
  test("the spec's exception mapping: generic codes and their statuses", () => {
    expect(WireCodes.VALIDATION_ERROR.status).toBe(422);
    expect(WireCodes.CONFLICT.status).toBe(409);
    expect(WireCodes.INTERNAL_ERROR.status).toBe(500);
    expect(WireCodes.NOT_FOUND.status).toBe(404);
    expect(WireCodes.BAD_REQUEST.status).toBe(400);
    expect(WireCodes.INSTANCE_NOT_FOUND.status).toBe(404);
    expect(WireCodes.NODE_NOT_CONNECTED.status).toBe(409);
    expect(WireCodes.STORE_UNAVAILABLE.status).toBe(503);
    expect(WireCodes.COORDINATION_UNAVAILABLE.status).toBe(503);
    expect(wireCodeOf("INVALID_ARGUMENT")).toBe("VALIDATION_ERROR");
    expect(wireCodeOf("ILLEGAL_STATE")).toBe("CONFLICT");
    expect(wireCodeOf("DUPLICATE_KEY")).toBe("CONFLICT");
    expect(wireCodeOf("STALE_FENCING_TOKEN")).toBe("CONFLICT");
  });

  test("every code thrown in src reaches the wire as a catalogue code that the OpenAPI document lists", () => {
    const thrown = thrownCodes();
    expect(thrown.size).toBeGreaterThan(10);
    const documented = new Set(
      openapi.components.schemas.ErrorEnvelope.properties.error.properties.code.enum,
    );
    for (const code of thrown) {
      const known = code in WireCodes || code in InternalKinds;
      expect({ code, known }).toEqual({ code, known: true });
      const wire = wireCodeOf(code as ErrorCode);
      expect({ code, wire, documented: documented.has(wire) }).toEqual({ code, wire, documented: true });
    }
    // and the document lists nothing but the catalogue
    expect([...documented].sort()).toEqual(Object.keys(WireCodes).sort());
    for (const internal of Object.keys(InternalKinds)) expect(documented.has(internal)).toBe(false);
  });

  test("every operation documents its error answers with the envelope", () => {
    let operations = 0;
    for (const [path, methods] of Object.entries(openapi.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        operations++;
        const statuses = Object.keys(op.responses ?? {});
        expect({ op: `${method} ${path}`, has500: statuses.includes("500") }).toEqual({
          op: `${method} ${path}`,
          has500: true,
        });
      }
    }
    expect(operations).toBeGreaterThanOrEqual(ctl.running.routes.routes.length);
    // paged lists declare the list envelope, so the fuzz run checks their answers too
    const groups = openapi.paths["/api/v1/groups"]?.get?.responses?.["200"] as
      | { content: { "application/json": { schema: { required: string[] } } } }
      | undefined;
    expect(groups?.content["application/json"].schema.required).toEqual([
      "data",
      "page",
      "pageSize",
      "total",
    ]);
  });

  test("outage codes carry Retry-After; internal errors never leak their message", () => {
    for (const code of ["STORE_UNAVAILABLE", "COORDINATION_UNAVAILABLE"] as const) {
      const mapped = toEnvelope(new AppError(code, "down"), "r1");
      expect(mapped.status).toBe(503);
      expect(Number(mapped.headers["retry-after"])).toBeGreaterThan(0);
      expect(mapped.body.error.code).toBe(code);
    }
    const internal = toEnvelope(new AppError("CONFIG_INVALID", "/secret/path is broken"), "r2");
    expect(internal.status).toBe(500);
    expect(internal.body.error).toEqual({
      code: "INTERNAL_ERROR",
      message: "internal error",
      requestId: "r2",
    });
  });

  test("framework and domain failures answer with catalogue codes on the wire", async () => {
    const cases: [string, () => Promise<Response>, number, WireCode][] = [
      ["unknown route", () => ctl.call("GET", "/api/v1/nope", { token }), 404, "NOT_FOUND"],
      [
        "body not JSON",
        () => ctl.call("POST", "/api/v1/groups", { token, body: "{not json" }),
        400,
        "BAD_REQUEST",
      ],
      [
        "schema violation",
        () => ctl.call("POST", "/api/v1/groups", { token, body: { name: 5 } }),
        422,
        "VALIDATION_ERROR",
      ],
      [
        "invalid argument",
        () => ctl.call("POST", "/api/v1/roles", { token, body: { name: "X", permissions: ["nope.nope"] } }),
        422,
        "VALIDATION_ERROR",
      ],
      ["illegal state", () => ctl.call("DELETE", "/api/v1/users/admin", { token }), 409, "CONFLICT"],
      [
        "missing instance",
        () => ctl.call("GET", "/api/v1/services/nope-1", { token }),
        404,
        "INSTANCE_NOT_FOUND",
      ],
      ["wrong method", () => ctl.call("PUT", "/api/v1/auth/login", {}), 405, "METHOD_NOT_ALLOWED"],
      ["TRACE", () => nodeRequest(`${ctl.url}/api/v1/groups`, "TRACE"), 405, "METHOD_NOT_ALLOWED"],
    ];
    for (const [name, send, status, code] of cases) {
      const res = await send();
      const body = (await res.json()) as Envelope;
      expect({ name, status: res.status, code: body.error.code }).toEqual({ name, status, code });
      expect(body.error.code in WireCodes).toBe(true);
      expect(body.error.requestId).toBe(res.headers.get("x-request-id")!);
    }
  });

  test("every method token Bun parses but no route has is a 405; one it does not parse closes the connection", async () => {
    for (const method of ["TRACE", "PROPFIND", "MKCOL", "LOCK", "PURGE"]) {
      const res = await nodeRequest(`${ctl.url}/api/v1/groups`, method);
      const body = (await res.json()) as Envelope;
      expect({ method, status: res.status, code: body.error.code }).toEqual({
        method,
        status: 405,
        code: "METHOD_NOT_ALLOWED",
      });
    }
    // A token outside HTTP's registered methods never reaches the application: Bun's parser closes
    // the connection without an answer (nothing to map to an envelope). The server keeps serving.
    const { port } = new URL(ctl.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => {
        socket.write("FROBNICATE /api/v1/groups HTTP/1.1\r\nHost: x\r\n\r\n");
      });
      let got = "";
      socket.on("data", (d: Buffer) => {
        got += d.toString();
      });
      socket.on("close", () => resolve(got));
      socket.on("error", reject);
      socket.setTimeout(5_000, () => socket.destroy(new Error("no close within 5 s")));
    });
    expect(answer.startsWith("HTTP/1.1 5")).toBe(false);
    expect((await ctl.call("GET", "/api/v1/system/health")).status).toBe(200);
  });
});
