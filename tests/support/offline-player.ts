import { type Client, createClient } from "minecraft-protocol";

/** A minecraft-protocol client logged in offline, and whether its connection has ended since. */
export interface OfflinePlayer {
  client: Client;
  ended(): boolean;
}

/** Logs `username` in (offline mode) to the server on loopback `port`; resolves once it is in. */
export async function joinOfflinePlayer(port: number, username: string): Promise<OfflinePlayer> {
  const client = createClient({ host: "127.0.0.1", port, username, auth: "offline" });
  let ended = false;
  client.on("end", () => {
    ended = true;
  });
  await new Promise<void>((resolve, reject) => {
    client.once("login", () => resolve());
    client.once("error", reject);
  });
  return { client, ended: () => ended };
}
