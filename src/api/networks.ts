import { type Static, Type as T } from "@sinclair/typebox";
import { RESOURCE_NAME_PATTERN } from "../core/names.ts";

const Name = T.String({ pattern: RESOURCE_NAME_PATTERN });
const Groups = T.Array(Name, { maxItems: 64, default: [] });

/** How proxies route players: lobby first, then fallbacks in order. */
export const NetworkSchema = T.Object(
  {
    name: Name,
    description: T.String({ maxLength: 512, default: "" }),
    lobbyGroup: Name,
    fallbackGroups: Groups,
    memberGroups: Groups,
    proxyGroups: Groups,
    kickMessage: T.String({ maxLength: 512, default: "No server is available right now." }),
    bedrockLobbyGroup: T.String({ maxLength: 32, default: "" }),
    bedrockFallbackGroups: Groups,
    forcedHosts: T.Record(T.String({ pattern: "^[A-Za-z0-9.-]{1,253}$" }), Name, {
      default: {},
      additionalProperties: false,
      maxProperties: 64,
      description: "hostname players connect with → the group its instances route to (proxy forced hosts)",
    }),
  },
  { additionalProperties: false },
);

export type NetworkSpec = Static<typeof NetworkSchema>;

/** A network as stored: the body's fields with their defaults filled in. */
export const NetworkView = T.Object(NetworkSchema.properties);
