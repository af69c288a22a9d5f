import { createServer } from "node:net";

/** Whether a TCP listener could bind `host:port` right now. */
export type BindProbe = (port: number, host: string) => Promise<boolean>;

/**
 * Binds and releases at once. Probing the wildcard address also catches a listener on one specific
 * interface (Linux refuses the wildcard then), so a port that passes is free for any bind address.
 */
export const tcpBindProbe: BindProbe = (port, host) =>
  new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
