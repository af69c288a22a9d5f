import { leaf } from "../command-kit.ts";
import { ApiError } from "../errors.ts";
import { isMachine, printData } from "../output/render.ts";

/**
 * A part of the overview this controller cannot give (route not built yet) or this user may not
 * see: shown as "-" instead of failing the whole overview.
 */
async function optional<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError && (err.noRoute || err.status === 403)) return undefined;
    throw err;
  }
}

export const statusCommand = leaf({
  name: "status",
  description: "Overview: controller, readiness, who you are, maintenance, groups, nodes, instances",
  examples: ["prexorctl status", "prexorctl status -o json"],
  async run({ api, session, out }) {
    const s = session();
    const a = api();
    const version = await a.system.version();
    const ready = await a.system.ready();
    const me = await a.auth.me();
    const [maintenance, groups, nodes, instances, running, groupList] = await Promise.all([
      optional(() => a.maintenance.get()),
      optional(() => a.groups.total()),
      optional(() => a.nodes.list()),
      optional(() => a.instances.total()),
      optional(() => a.instances.total("RUNNING")),
      optional(() => a.groups.list()),
    ]);
    // Groups that will not reach their desired count until someone acts.
    const paused = (groupList ?? [])
      .filter((g) => g.pause)
      .map((g) => ({ group: g.name, reason: g.pause?.reason ?? "" }));
    const status = {
      server: s.server,
      context: s.contextName ?? null,
      controller: {
        version: version.version,
        gitCommit: version.gitCommit,
        protocolVersion: version.protocolVersion,
      },
      ready: ready.status,
      checks: ready.checks ?? {},
      user: { username: me.username, role: me.role },
      maintenance: maintenance ?? null,
      groups: groups ?? null,
      nodes: nodes ? { total: nodes.length, online: nodes.filter((n) => n.state === "ONLINE").length } : null,
      instances: instances === undefined ? null : { total: instances, running: running ?? null },
      pausedGroups: paused,
    };
    if (isMachine(out)) return printData(out, status);
    const st = out.style;
    const checks = Object.entries(status.checks)
      .map(([k, v]) => `${k} ${st.state(v)}`)
      .join(", ");
    const rows: Array<[string, string]> = [
      ["Controller", `${s.server}${s.contextName ? ` (context ${s.contextName})` : ""}`],
      ["Version", `${version.version} (${version.gitCommit})`],
      ["Ready", `${st.state(ready.status)}${checks ? ` (${checks})` : ""}`],
      ["User", `${me.username} (${me.role})`],
      [
        "Maintenance",
        maintenance ? (maintenance.enabled ? st.yellow(`on: ${maintenance.message}`) : "off") : "-",
      ],
      ["Groups", groups === undefined ? "-" : String(groups)],
      ["Nodes", status.nodes ? `${status.nodes.total} (${status.nodes.online} online)` : "-"],
      [
        "Instances",
        status.instances ? `${status.instances.total} (${status.instances.running ?? "-"} running)` : "-",
      ],
    ];
    for (const p of paused)
      rows.push(["Paused", st.red(`${p.group}: ${p.reason} (prexorctl group resume ${p.group})`)]);
    const width = Math.max(...rows.map(([k]) => k.length)) + 2;
    for (const [k, v] of rows) out.print(`${`${k}:`.padEnd(width)}${v}`);
  },
});
