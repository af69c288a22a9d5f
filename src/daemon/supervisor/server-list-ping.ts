import { connect } from "node:net";

/** What a Minecraft server answers to a status request (the server list entry). */
export interface ServerStatus {
  readonly version?: { readonly name?: string; readonly protocol?: number };
  readonly players?: {
    readonly max?: number;
    readonly online?: number;
    readonly sample?: readonly { readonly name?: string; readonly id?: string }[];
  };
  readonly description?: unknown;
  readonly latencyMs: number;
}

export interface PingOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs?: number;
  /** -1 asks "any version", which every modern server answers. */
  readonly protocolVersion?: number;
}

const MAX_RESPONSE_BYTES = 1 << 20;

/**
 * Server List Ping: a handshake with next state "status", then a status request; the server answers
 * with one JSON document. Every packet is `VarInt length, VarInt id, fields`. This is the one
 * readiness signal that proves the server accepts Minecraft connections, not just that it logged.
 */
export function serverListPing(options: PingOptions): Promise<ServerStatus> {
  const started = performance.now();
  const host = options.host;
  const handshake = packet(
    0x00,
    varInt(options.protocolVersion ?? -1),
    mcString(host),
    uShort(options.port),
    varInt(1),
  );
  const statusRequest = packet(0x00);

  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: options.port });
    let received = Buffer.alloc(0);
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(options.timeoutMs ?? 2000, () => fail(new Error("server list ping timed out")));
    socket.once("error", fail);
    socket.once("connect", () => socket.write(Buffer.concat([handshake, statusRequest])));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > MAX_RESPONSE_BYTES) return fail(new Error("status response too large"));
      const frame = readFrame(received);
      if (frame === undefined) return;
      socket.destroy();
      try {
        resolve({ ...parseStatus(frame), latencyMs: performance.now() - started });
      } catch (err) {
        reject(err);
      }
    });
    socket.once("end", () => fail(new Error("server closed the connection before answering")));
  });
}

function parseStatus(frame: Buffer): Omit<ServerStatus, "latencyMs"> {
  const id = readVarInt(frame, 0);
  if (id === undefined || id.value !== 0x00) throw new Error("unexpected status packet id");
  const length = readVarInt(frame, id.next);
  if (length === undefined) throw new Error("truncated status response");
  const json = frame.subarray(length.next, length.next + length.value).toString("utf8");
  return JSON.parse(json) as Omit<ServerStatus, "latencyMs">;
}

/** One complete length-prefixed packet body from the start of `buffer`, if it has fully arrived. */
function readFrame(buffer: Buffer): Buffer | undefined {
  const length = readVarInt(buffer, 0);
  if (length === undefined || buffer.length < length.next + length.value) return undefined;
  return buffer.subarray(length.next, length.next + length.value);
}

function readVarInt(buffer: Buffer, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (offset + i >= buffer.length) return undefined;
    const byte = buffer[offset + i]!;
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) === 0) return { value, next: offset + i + 1 };
  }
  throw new Error("VarInt longer than 5 bytes");
}

export function varInt(value: number): Buffer {
  const bytes: number[] = [];
  // Two's complement for negatives, as the protocol encodes them (always 5 bytes).
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return Buffer.from(bytes);
}

function mcString(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  return Buffer.concat([varInt(bytes.length), bytes]);
}

function uShort(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
}

function packet(id: number, ...fields: Buffer[]): Buffer {
  const body = Buffer.concat([varInt(id), ...fields]);
  return Buffer.concat([varInt(body.length), body]);
}
