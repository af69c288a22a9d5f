import type { JoinToken } from "../client/types.ts";
import { branch, leaf } from "../command-kit.ts";
import { isMachine, printData, printDone, printList } from "../output/render.ts";
import type { Column } from "../output/table.ts";
import { parseDuration } from "../parse.ts";

const columns: Column<JoinToken>[] = [
  { header: "id", value: (t) => t.tokenId },
  { header: "node", value: (t) => t.nodeId ?? "(any)" },
  { header: "status", value: (t) => t.status, color: (text, s) => s.state(text) },
  { header: "expires", value: (t) => t.expiresAt },
  { header: "created-by", value: (t) => t.createdBy, wide: true },
];

const create = leaf({
  name: "create",
  description: "Mint a one-time token a new daemon enrols with (shown once)",
  examples: [
    "prexorctl join-token create --node mc-2",
    "prexorctl join-token create --node mc-2 --ttl 15m -o json",
  ],
  args: {
    node: { type: "string", required: true, description: "id the new node will have" },
    ttl: { type: "string", description: "how long the token is valid (default 1h)" },
  },
  async run({ args, api, out }) {
    const ttlMs = parseDuration(args.ttl, "--ttl") ?? 3_600_000;
    const token = await api().joinTokens.create(args.node, Math.ceil(ttlMs / 1000));
    if (isMachine(out)) return printData(out, token);
    out.print(token.token ?? "");
    out.note(
      `join token for node "${token.nodeId}" (id ${token.tokenId}), valid until ${token.expiresAt}; it is not shown again`,
    );
  },
});

const list = leaf({
  name: "list",
  description: "List join tokens and whether they are pending, used, expired or revoked (never the secrets)",
  examples: ["prexorctl join-token list"],
  async run({ api, out }) {
    printList(out, await api().joinTokens.list(), columns, { what: "join-token", name: (t) => t.tokenId });
  },
});

const revoke = leaf({
  name: "revoke",
  description: "Revoke a join token before it is used",
  examples: ["prexorctl join-token revoke 5c1e0d2a"],
  args: { id: { type: "positional", required: true, description: "token id (from join-token list)" } },
  async run({ args, api, out }) {
    printDone(out, `join token "${args.id}" revoked`, await api().joinTokens.revoke(args.id));
  },
});

export const joinTokenCommand = branch({
  name: "join-token",
  description: "Manage the one-time tokens new daemons enrol with",
  examples: ["prexorctl join-token create --node mc-2 --ttl 30m"],
  subCommands: { create, list, revoke },
});
