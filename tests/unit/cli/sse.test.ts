import { describe, expect, test } from "bun:test";
import { followSse, type SseMessage, SseParser } from "../../../src/cli/client/sse.ts";
import { ApiError, type CliError, UnreachableError } from "../../../src/cli/errors.ts";

describe("SSE parsing", () => {
  test("events split across chunks and line endings come out whole", () => {
    const p = new SseParser();
    const out: SseMessage[] = [];
    for (const chunk of [
      "event: connec",
      "ted\r",
      '\ndata: {"a":1}\r\n\r\n: keep-alive\n\nid: 7\nda',
      "ta: x\ndata: y\n\n",
    ])
      out.push(...p.push(chunk));
    expect(out).toEqual([
      { event: "connected", data: '{"a":1}' },
      { event: "message", id: "7", data: "x\ny" },
    ]);
  });

  test("the last id sticks to later events (as EventSource does)", () => {
    const p = new SseParser();
    expect(p.push("id: 3\ndata: a\n\ndata: b\n\n")).toEqual([
      { event: "message", id: "3", data: "a" },
      { event: "message", id: "3", data: "b" },
    ]);
  });
});

function stream(text: string): Response {
  return new Response(text, { headers: { "content-type": "text/event-stream" } });
}

describe("following a stream", () => {
  test("reconnects after a drop and resumes from the last event id", async () => {
    const opened: Array<string | undefined> = [];
    const bodies = [
      "event: connected\ndata: {}\n\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n",
      "id: 3\ndata: three\n\n",
    ];
    const seen: string[] = [];
    const delays: number[] = [];
    await followSse({
      open: async (last) => {
        opened.push(last);
        return stream(bodies.shift() ?? "");
      },
      onMessage: (m) => {
        if (m.event === "message") seen.push(m.data);
        return seen.length < 3;
      },
      onReconnect: (delay) => delays.push(delay),
      sleep: async () => {},
    });
    expect(seen).toEqual(["one", "two", "three"]);
    expect(opened).toEqual([undefined, "2"]);
    expect(delays).toEqual([500]);
  });

  test("a controller that cannot be reached at the start is reported at once", async () => {
    const err = new UnreachableError("http://h:1", "connection refused");
    await expect(
      followSse({ open: async () => Promise.reject(err), onMessage: () => true, sleep: async () => {} }),
    ).rejects.toBe(err);
  });

  test("backs off exponentially while a stream that worked keeps failing, and 401 is final", async () => {
    let calls = 0;
    const delays: number[] = [];
    const run = followSse({
      open: async () => {
        calls++;
        if (calls === 1) return stream("data: hi\n\n");
        if (calls < 5) throw new Error("reset");
        throw new ApiError(401, "UNAUTHORIZED", "token revoked", "POST", "/api/v1/events/ticket");
      },
      onMessage: () => true,
      onReconnect: (d) => delays.push(d),
      sleep: async () => {},
    });
    await expect(run).rejects.toBeInstanceOf(ApiError);
    expect(delays).toEqual([500, 1000, 2000, 4000]);
  });

  test("repeated `event: error Unauthorized` ends with an auth error", async () => {
    await expect(
      followSse({
        open: async () => stream('event: error\ndata: {"message":"Unauthorized"}\n\n'),
        onMessage: () => true,
        sleep: async () => {},
      }),
    ).rejects.toMatchObject({ exitCode: 3 } satisfies Partial<CliError>);
  });
});
