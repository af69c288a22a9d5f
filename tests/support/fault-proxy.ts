import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy on 127.0.0.1 that injects the faults a network or a stuck server causes: `pause()`
 * keeps connections open but moves no bytes (a SIGSTOPped server, a black-holed link), `cut()`
 * resets every connection and refuses new ones (a killed server, a partition), `heal()` returns to
 * forwarding. Put between a controller and MongoDB/Redis, or a daemon and a controller.
 */
export class FaultProxy {
  private mode: "pass" | "pause" | "cut" = "pass";
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("proxy did not bind");
    proxy = new FaultProxy(server, address.port);
    return proxy;
  }

  pause(): void {
    this.mode = "pause";
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
    }
  }

  cut(): void {
    this.mode = "cut";
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  heal(): void {
    this.mode = "pass";
    for (const [a, b] of this.pairs) {
      a.resume();
      b.resume();
    }
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.mode === "cut") {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host, port });
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
    if (this.mode === "pause") {
      client.pause();
      upstream.pause();
    }
  }
}
