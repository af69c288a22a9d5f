import { describe, expect, test } from "bun:test";
import { planProxyRoutes, type RouteInstance } from "../../../src/controller/networks/proxy-routes.ts";
import { seededRandom } from "../scheduler/fleet.ts";

const network = {
  name: "main",
  proxyGroups: ["proxy"],
  lobbyGroup: "lobby",
  fallbackGroups: ["overflow"],
  memberGroups: ["games"],
  forcedHosts: { "games.example.com": "games", "empty.example.com": "nobody" },
};
const nodeAddresses = new Map([
  ["node-a", "10.0.0.5"],
  ["node-b", "fd00::6"],
]);
const proxyFormats = new Map([["proxy", "VELOCITY" as const]]);
const at = (id: string, group: string, state = "RUNNING", node = "node-a", port = 30000): RouteInstance => ({
  id,
  group,
  node,
  state,
  port,
});

describe("proxy route planning", () => {
  test("exactly the RUNNING backends, lobby then fallbacks tried, members by name and forced host", () => {
    const plans = planProxyRoutes({
      networks: [network],
      nodeAddresses,
      proxyFormats,
      instances: [
        at("proxy-1", "proxy", "RUNNING", "node-b", 25577),
        at("lobby-10", "lobby", "RUNNING", "node-a", 30010),
        at("lobby-2", "lobby", "RUNNING", "node-b", 30002),
        at("lobby-3", "lobby", "DRAINING", "node-a", 30003),
        at("lobby-4", "lobby", "STARTING", "node-a", 30004),
        at("overflow-1", "overflow", "RUNNING", "node-a", 30100),
        at("games-1", "games", "RUNNING", "node-a", 30200),
        at("other-1", "other", "RUNNING", "node-a", 30300),
      ],
    });
    expect(plans).toHaveLength(1);
    const [plan] = plans;
    expect(plan).toMatchObject({ instanceId: "proxy-1", node: "node-b", format: "VELOCITY" });
    expect(plan!.servers).toEqual([
      { name: "lobby-2", address: "[fd00::6]:30002" },
      { name: "lobby-10", address: "10.0.0.5:30010" },
      { name: "overflow-1", address: "10.0.0.5:30100" },
      { name: "games-1", address: "10.0.0.5:30200" },
    ]);
    expect(plan!.try).toEqual(["lobby-2", "lobby-10", "overflow-1"]);
    // A host whose group has nothing running is left out (Velocity refuses unknown names).
    expect(plan!.forcedHosts).toEqual([{ host: "games.example.com", servers: ["games-1"] }]);
  });

  test("a draining proxy keeps routing; a stopped one and a proxy platform we cannot render get nothing", () => {
    const instances = [
      at("proxy-1", "proxy", "DRAINING"),
      at("proxy-2", "proxy", "STOPPED"),
      at("lobby-1", "lobby"),
    ];
    expect(
      planProxyRoutes({ networks: [network], nodeAddresses, proxyFormats, instances }).map(
        (p) => p.instanceId,
      ),
    ).toEqual(["proxy-1"]);
    expect(
      planProxyRoutes({ networks: [network], nodeAddresses, proxyFormats: new Map(), instances }),
    ).toEqual([]);
  });

  test("a backend on a node with no known address is not listed", () => {
    const [plan] = planProxyRoutes({
      networks: [network],
      nodeAddresses,
      proxyFormats,
      instances: [at("proxy-1", "proxy"), at("lobby-1", "lobby", "RUNNING", "node-gone")],
    });
    expect(plan!.servers).toEqual([]);
    expect(plan!.try).toEqual([]);
  });

  test("a proxy group in two networks routes to both, each name once", () => {
    const second = {
      ...network,
      name: "second",
      lobbyGroup: "hub",
      fallbackGroups: ["lobby"],
      memberGroups: [],
      forcedHosts: {},
    };
    const [plan] = planProxyRoutes({
      networks: [second, network],
      nodeAddresses,
      proxyFormats,
      instances: [at("proxy-1", "proxy"), at("lobby-1", "lobby"), at("hub-1", "hub")],
    });
    expect(plan!.servers.map((s) => s.name)).toEqual(["lobby-1", "hub-1"]);
    expect(plan!.try).toEqual(["lobby-1", "hub-1"]);
  });

  test("seeded worlds: only RUNNING backends with an address, try within servers, order-independent revisions", () => {
    const groups = ["proxy", "lobby", "overflow", "games", "other"];
    const states = ["RUNNING", "RUNNING", "DRAINING", "STARTING", "STOPPED", "CRASHED"];
    for (let seed = 1; seed <= 200; seed++) {
      const rand = seededRandom(seed);
      const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
      const instances = Array.from({ length: 1 + Math.floor(rand() * 30) }, (_, i) => {
        const group = pick(groups);
        return at(`${group}-${i}`, group, pick(states), pick(["node-a", "node-b", "node-x"]), 30000 + i);
      });
      const input = { networks: [network], nodeAddresses, proxyFormats, instances };
      const plans = planProxyRoutes(input);
      const backendGroups = new Set(["lobby", "overflow", "games"]);
      const expected = instances
        .filter((i) => backendGroups.has(i.group) && i.state === "RUNNING" && nodeAddresses.has(i.node))
        .map((i) => i.id)
        .sort();
      const proxies = instances.filter(
        (i) => i.group === "proxy" && (i.state === "RUNNING" || i.state === "DRAINING"),
      );
      expect(plans.map((p) => p.instanceId).sort()).toEqual(proxies.map((p) => p.id).sort());
      for (const plan of plans) {
        const names = plan.servers.map((s) => s.name);
        expect([...names].sort()).toEqual(expected);
        for (const name of plan.try) expect(names).toContain(name);
        for (const host of plan.forcedHosts) for (const name of host.servers) expect(names).toContain(name);
        expect(plan.try.some((name) => name.startsWith("games-"))).toBe(false);
      }
      // The same world in another order: the same tables, the same revisions.
      const shuffled = [...instances].sort(() => rand() - 0.5);
      expect(planProxyRoutes({ ...input, instances: shuffled })).toEqual(plans);
    }
  });
});
