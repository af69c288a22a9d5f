/**
 * Test workload: a real Minecraft server (flying-squid) that behaves like a Paper server on the
 * console. Usage: `bun flying-squid-launcher.ts --port P [--rcon-port R --rcon-password S]`.
 *
 * flying-squid's own CLI cannot set the port (its defaults overwrite the settings file), so this
 * calls the library directly. It prints a Paper-format `Done (…)! For help` line once the server is
 * listening and its plugins are loaded, reads console commands on stdin (flying-squid's readline does
 * that), and optionally serves RCON, running each command through flying-squid's command system and
 * replying with what the command logged.
 */
import { parseArgs } from "node:util";
import { startRconServer } from "./rcon-server.ts";

interface SquidServer {
  log: (message: string) => void;
  commands: { use: (command: string) => Promise<string | undefined> };
  on: (event: "ready", listener: () => void) => void;
}

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "rcon-port": { type: "string" },
    "rcon-password": { type: "string" },
  },
});
const port = Number(values.port ?? process.env.CLOUD_PORT);
const rconPort = Number(values["rcon-port"] ?? process.env.CLOUD_RCON_PORT ?? 0);
const rconPassword = values["rcon-password"] ?? process.env.CLOUD_RCON_PASSWORD ?? "";
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: flying-squid-launcher --port P [--rcon-port R --rcon-password S]");
  process.exit(2);
}

const startedAt = performance.now();
const { createMCServer } = require("flying-squid") as {
  createMCServer: (options: Record<string, unknown>) => SquidServer;
};
const defaults = require("flying-squid/config/default-settings.json") as Record<string, unknown>;
const serv = createMCServer({
  ...defaults,
  host: "127.0.0.1",
  port,
  version: "1.21.4",
  "online-mode": false,
  logging: false,
  "everybody-op": true,
  "view-distance": 2,
  "max-players": 10,
  motd: "prexorcloud test workload",
  worldFolder: undefined, // in-memory world
  debug: undefined,
});

// RCON replies are whatever the command logs while it runs, as with a vanilla server.
let capture: string[] | undefined;
const ANSI = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;]*[A-Za-z]`, "g");
const log = serv.log;
serv.log = (message) => {
  // Without colours and the level tag, the way a vanilla RCON reply reads.
  capture?.push(message.replace(ANSI, "").replace(/^\[(?:INFO|WARN|ERROR)\]: /, ""));
  log(message);
};
async function execute(command: string): Promise<string> {
  capture = [];
  try {
    const result = await serv.commands.use(command);
    if (result) capture.push(result);
    return capture.join("\n");
  } finally {
    capture = undefined;
  }
}

serv.on("ready", async () => {
  if (rconPort > 0) {
    await startRconServer({ host: "127.0.0.1", port: rconPort, password: rconPassword, execute });
    console.log(`[${clock()} INFO]: RCON running on 127.0.0.1:${rconPort}`);
  }
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(3);
  console.log(`[${clock()} INFO]: Done (${seconds}s)! For help, type "help"`);
});

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}
