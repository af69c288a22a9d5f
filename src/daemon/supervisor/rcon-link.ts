import { Rcon } from "rcon-client";

export interface RconSettings {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  readonly timeoutMs?: number;
}

/**
 * One lazily opened RCON connection to an instance, reused across commands and reopened after a
 * failure. rcon-client sends one request at a time, which is what Minecraft servers handle reliably.
 * Replies longer than 4096 bytes come back truncated to the first packet (a known rcon-client
 * limitation; vanilla only splits very long outputs such as `help`).
 */
export class RconLink {
  private connection: Promise<Rcon> | undefined;

  constructor(private readonly settings: RconSettings) {}

  async send(command: string): Promise<string> {
    const rcon = await this.connect();
    try {
      return await rcon.send(command);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    if (pending === undefined) return;
    // closing: a connection that never opened has nothing to end
    const rcon = await pending.catch(() => undefined);
    // closing: the server may have hung up first
    await rcon?.end().catch(() => undefined);
  }

  private connect(): Promise<Rcon> {
    if (this.connection === undefined) {
      const rcon = new Rcon({
        host: this.settings.host,
        port: this.settings.port,
        password: this.settings.password,
        timeout: this.settings.timeoutMs ?? 5000,
      });
      // A dropped connection is noticed on the next send; without a listener the emitter would throw.
      rcon.on("error", () => undefined);
      rcon.on("end", () => {
        if (this.connection === attempt) this.connection = undefined;
      });
      const attempt: Promise<Rcon> = rcon.connect().catch((err: unknown) => {
        if (this.connection === attempt) this.connection = undefined;
        throw err;
      });
      this.connection = attempt;
    }
    return this.connection;
  }
}
