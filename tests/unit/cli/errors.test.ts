import { describe, expect, test } from "bun:test";
import {
  ApiError,
  CliError,
  EXIT,
  exitCodeForApi,
  explain,
  UnreachableError,
} from "../../../src/cli/errors.ts";

const api = (status: number, code: string, message = "m") =>
  new ApiError(status, code, message, "GET", "/api/v1/x");

describe("exit codes", () => {
  test("follow the HTTP status: 401/403 → 3, 404 → 4, 409 → 5, anything else → 1", () => {
    expect(exitCodeForApi(api(401, "UNAUTHORIZED"))).toBe(EXIT.AUTH);
    expect(exitCodeForApi(api(403, "FORBIDDEN"))).toBe(EXIT.AUTH);
    expect(exitCodeForApi(api(404, "NOT_FOUND"))).toBe(EXIT.NOT_FOUND);
    expect(exitCodeForApi(api(409, "CONFLICT"))).toBe(EXIT.CONFLICT);
    expect(exitCodeForApi(api(422, "VALIDATION_ERROR"))).toBe(EXIT.ERROR);
    expect(exitCodeForApi(api(500, "INTERNAL_ERROR"))).toBe(EXIT.ERROR);
  });

  test("a locked account is an authentication failure even though it is a 429", () => {
    expect(exitCodeForApi(api(429, "ACCOUNT_LOCKED"))).toBe(EXIT.AUTH);
    expect(exitCodeForApi(api(429, "RATE_LIMITED"))).toBe(EXIT.ERROR);
  });

  test("the router's own 404 is a missing feature (1), not a missing resource (4)", () => {
    const err = api(404, "NOT_FOUND", "no route for POST /api/v1/groups/a/start");
    expect(err.noRoute).toBe(true);
    expect(exitCodeForApi(err)).toBe(EXIT.ERROR);
    expect(explain(err).lines[0]).toContain("has no route for GET /api/v1/x");
  });
});

describe("messages", () => {
  test("show the API's code, message and request id, with a hint on 401", () => {
    const err = new ApiError(401, "UNAUTHORIZED", "the token is invalid", "GET", "/api/v1/groups", "req-1");
    const { exitCode, lines } = explain(err);
    expect(exitCode).toBe(3);
    expect(lines[0]).toBe("error: UNAUTHORIZED: the token is invalid (request req-1)");
    expect(lines.join("\n")).toContain("prexorctl login");
  });

  test("list details under the message", () => {
    const err = new ApiError(422, "VALIDATION_ERROR", "bad", "POST", "/p", undefined, {
      missing: ["a", "b"],
    });
    expect(explain(err).lines).toEqual(["error: VALIDATION_ERROR: bad", '  missing: ["a","b"]']);
  });

  test("unreachable controllers and CLI errors keep their own exit codes", () => {
    expect(explain(new UnreachableError("http://h:1", "connection refused"))).toEqual({
      exitCode: 1,
      lines: ["error: cannot reach the controller at http://h:1: connection refused"],
    });
    expect(explain(new CliError("bad flag", EXIT.USAGE, "hint: x"))).toEqual({
      exitCode: 2,
      lines: ["error: bad flag", "hint: x"],
    });
    expect(explain(new Error("boom")).exitCode).toBe(1);
  });
});
