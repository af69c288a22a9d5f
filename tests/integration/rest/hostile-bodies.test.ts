import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { serverBodyLimit } from "../../../src/controller/http/app.ts";
import { startTestController, type TestController } from "../../support/controller.ts";

interface Envelope {
  error: { code: string; message: string; requestId: string };
}

let ctl: TestController;
let token: string;

beforeAll(async () => {
  ctl = await startTestController();
  token = await ctl.login();
});
afterAll(() => ctl.stop());

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

/** A body without Content-Length: fetch sends a ReadableStream chunked. */
function chunked(totalBytes: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  const piece = new TextEncoder().encode("x".repeat(chunk));
  return new ReadableStream({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      sent += piece.byteLength;
      controller.enqueue(piece);
    },
  });
}

async function post(
  path: string,
  body: string | Uint8Array | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${ctl.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Envelope };
}

describe("hostile JSON bodies", () => {
  // one operator, one plugin and one proxy route: parsing happens before any route's auth
  const routes = [
    "/api/v1/auth/login",
    "/api/v1/groups",
    "/api/plugin/player-join",
    "/api/proxy/player-join",
  ];

  test("20,000-deep and 60,000-deep nesting is a 400 envelope that does not echo the body", async () => {
    for (const path of routes) {
      for (const depth of [20_000, 60_000]) {
        const res = await post(path, nested(depth));
        expect({ path, depth, status: res.status, code: res.body.error.code }).toEqual({
          path,
          depth,
          status: 400,
          code: "BAD_REQUEST",
        });
        expect(res.text.length).toBeLessThan(400);
        expect(res.text).not.toContain("[[");
      }
    }
  });

  test("nesting up to the limit still parses and reaches validation", async () => {
    const res = await post("/api/v1/auth/login", `{"username":"a","password":${nested(60)}}`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
  });

  test("too many members is a 413 envelope", async () => {
    const body = `[${"1,".repeat(100_000)}1]`;
    const res = await post("/api/v1/auth/login", body);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("a non-JSON content type on a JSON route is a 415 envelope", async () => {
    const res = await post("/api/v1/auth/login", "username=a", { "content-type": "text/plain" });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });
});

describe("bodies without Content-Length", () => {
  test("a chunked body over the JSON cap is a 413 envelope, also before the 401 of a guarded route", async () => {
    for (const path of ["/api/v1/auth/login", "/api/v1/groups", "/api/plugin/player-join"]) {
      const res = await post(path, chunked(8 * 1024 * 1024));
      expect({ path, status: res.status, code: res.body.error.code }).toEqual({
        path,
        status: 413,
        code: "PAYLOAD_TOO_LARGE",
      });
    }
  });

  test("a declared Content-Length over the cap is refused with the envelope before the body is read", async () => {
    const res = await post("/api/v1/auth/login", "x".repeat(2 * 1024 * 1024));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("the server limit sits above the 256 MiB template and 512 MiB catalog caps", () => {
    expect(serverBodyLimit(ctl.running.routes, ctl.config)).toBeGreaterThan(512 * 1024 * 1024);
  });

  test("70 MiB template uploads, chunked or with a Content-Length, are read by the route (not cut off by the server's limit)", async () => {
    const created = await ctl.call("POST", "/api/v1/templates", { token, body: { name: "big" } });
    expect(created.status).toBe(201);
    for (const body of [chunked(70 * 1024 * 1024), new Uint8Array(70 * 1024 * 1024)]) {
      const res = await fetch(`${ctl.url}/api/v1/templates/big/versions`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/zip" },
        body,
      });
      const answer = (await res.json()) as Envelope;
      // not an archive: the reader refuses it, which it can only do after reading it all
      expect(res.status).toBe(422);
      expect(answer.error.code).toBe("VALIDATION_ERROR");
    }
  });
});
