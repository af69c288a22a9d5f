import { createServer, type Server, type Socket } from "node:net";

/**
 * A small RCON server that follows the Source RCON framing Minecraft uses: little-endian
 * `length, id, type`, a NUL-terminated body and one more NUL. Login (type 3) is answered with an
 * auth response (type 2) carrying the request id, or -1 for a wrong password; a command (type 2)
 * is answered with response values (type 0), split at 4096 body bytes like vanilla does.
 */
export const RCON_TYPE = { RESPONSE_VALUE: 0, EXEC_COMMAND: 2, AUTH_RESPONSE: 2, AUTH: 3 } as const;

// `length` counts id (4), type (4), the body and its two terminating NULs.
const LENGTH_OVERHEAD = 10;
const MAX_BODY_BYTES = 4096;
// Requests are short commands; a huge length means a broken or hostile client.
const MAX_PACKET_LENGTH = MAX_BODY_BYTES + LENGTH_OVERHEAD;

export type RconExecutor = (command: string) => Promise<string>;

export function encodeRconPacket(id: number, type: number, body: string): Buffer {
  const payload = Buffer.from(body, "utf8");
  const packet = Buffer.alloc(4 + LENGTH_OVERHEAD + payload.length);
  packet.writeInt32LE(LENGTH_OVERHEAD + payload.length, 0);
  packet.writeInt32LE(id, 4);
  packet.writeInt32LE(type, 8);
  payload.copy(packet, 12);
  return packet;
}

export function startRconServer(options: {
  host: string;
  port: number;
  password: string;
  execute: RconExecutor;
}): Promise<Server> {
  const server = createServer((socket) => serveConnection(socket, options.password, options.execute));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}

function serveConnection(socket: Socket, password: string, execute: RconExecutor): void {
  let buffered = Buffer.alloc(0);
  let authenticated = false;
  // Commands run one at a time, in arrival order, so replies never overtake each other.
  let queue = Promise.resolve();

  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    // TCP may deliver half a packet or several at once; take every complete one.
    while (buffered.length >= 4) {
      const length = buffered.readInt32LE(0);
      if (length < LENGTH_OVERHEAD || length > MAX_PACKET_LENGTH) {
        socket.destroy();
        return;
      }
      if (buffered.length < 4 + length) return;
      const id = buffered.readInt32LE(4);
      const type = buffered.readInt32LE(8);
      const body = buffered.subarray(12, 4 + length - 2).toString("utf8");
      buffered = buffered.subarray(4 + length);

      if (type === RCON_TYPE.AUTH) {
        authenticated = body === password;
        socket.write(encodeRconPacket(authenticated ? id : -1, RCON_TYPE.AUTH_RESPONSE, ""));
      } else if (type === RCON_TYPE.EXEC_COMMAND && authenticated) {
        queue = queue.then(async () => {
          const reply = await execute(body).catch((err: Error) => err.message);
          for (const part of splitBody(reply))
            socket.write(encodeRconPacket(id, RCON_TYPE.RESPONSE_VALUE, part));
        });
      } else {
        // Vanilla drops a client that sends commands before logging in.
        socket.destroy();
        return;
      }
    }
  });
}

function splitBody(text: string): string[] {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= MAX_BODY_BYTES) return [text];
  const parts: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += MAX_BODY_BYTES) {
    parts.push(bytes.subarray(offset, offset + MAX_BODY_BYTES).toString("utf8"));
  }
  return parts;
}
