import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

export interface LogOptions {
  level: string;
  format: "HUMAN" | "JSON";
  /** defaults to stderr's TTY state */
  tty?: boolean;
  name?: string;
  destination?: NodeJS.WritableStream;
}

/**
 * Secret fields are censored by pino itself, so a careless `log.info({ body })` cannot leak a
 * password or token. Paths cover the shapes we log: request bodies, headers and config objects.
 */
const REDACT_PATHS = [
  "password",
  "*.password",
  "*.*.password",
  "newPassword",
  "*.newPassword",
  "currentPassword",
  "*.currentPassword",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "clusterSecret",
  "*.clusterSecret",
  "*.*.clusterSecret",
  "jwtSecret",
  "*.jwtSecret",
  "*.*.jwtSecret",
  "joinToken",
  "*.joinToken",
  "*.*.joinToken",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "*.headers.cookie",
  "privateKey",
  "*.privateKey",
];

/** HUMAN gives a coloured one-line form on a TTY; anything piped or collected gets JSON lines. */
export function createLogger(options: LogOptions): Logger {
  const level = options.level.toLowerCase();
  const tty = options.tty ?? Boolean(process.stderr.isTTY);
  const base = {
    level,
    name: options.name,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: "***" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.format === "HUMAN" && tty) {
    // pino-pretty as a plain stream, not a transport: transports need worker threads and module
    // resolution at run time, which a `bun build --compile` binary does not have.
    const stream = pretty({
      colorize: !process.env.NO_COLOR,
      destination: 2,
      sync: true,
      ignore: "pid,hostname",
    });
    return pino(base, stream);
  }
  return pino(base, options.destination ?? pino.destination({ fd: 2, sync: true }));
}

/** For tests and short-lived CLI work. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
