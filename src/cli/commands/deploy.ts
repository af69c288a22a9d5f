import { systemClock } from "../../core/clock.ts";
import type { Api } from "../client/api.ts";
import { readSse, type SseMessage } from "../client/sse.ts";
import type { Deployment, DeployRequest } from "../client/types.ts";
import { leaf } from "../command-kit.ts";
import { CliError, EXIT } from "../errors.ts";
import type { Output } from "../output/render.ts";
import { isMachine, printData, printDone, printItem, printList } from "../output/render.ts";
import { parseInteger } from "../parse.ts";
import { confirm } from "../prompt.ts";

const ACTIONS = new Set(["list", "show", "pause", "resume", "rollback", "save"]);
const ENDED = new Set(["COMPLETED", "ROLLED_BACK", "FAILED"]);
/** --watch re-reads the record at least this often, events or not */
const WATCH_REFRESH_MS = 2000;

function strings(value: unknown): string[] {
  if (value === undefined || value === null || value === false) return [];
  const all = Array.isArray(value) ? value.map(String) : [String(value)];
  return all
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** `--template lobby:v2` (repeatable, or comma-separated) → `{lobby: "v2"}`. */
export function templatePins(values: unknown): Record<string, string> | undefined {
  const pins: Record<string, string> = {};
  for (const item of strings(values)) {
    const colon = item.indexOf(":");
    if (colon <= 0 || colon === item.length - 1)
      throw new CliError(`--template ${item}: expected NAME:VERSION (e.g. lobby:v2)`, EXIT.USAGE);
    pins[item.slice(0, colon)] = item.slice(colon + 1);
  }
  return Object.keys(pins).length > 0 ? pins : undefined;
}

/** A boolean flag counts only when given (`--health-gate` / `--no-health-gate`), so defaults stay the server's. */
function switchOf(rawArgs: readonly string[], flag: string): boolean | undefined {
  if (rawArgs.includes(`--${flag}`) || rawArgs.includes(`--${flag}=true`)) return true;
  if (rawArgs.includes(`--no-${flag}`) || rawArgs.includes(`--${flag}=false`)) return false;
  return undefined;
}

function waveLine(d: Deployment): string {
  const wave = d.waves[d.waves.length - 1];
  if (wave === undefined) return "no wave yet";
  const pairs = wave.replaced.map((r) => `${r.old} → ${r.new ?? "?"}`).join(", ");
  return `wave ${wave.index} (${wave.kind}) ${wave.verdict}: ${pairs}`;
}

export function progressLine(d: Deployment): string {
  const gates = d.gates
    .filter((g) => g.verdict !== "passed")
    .map((g) => `${g.instance} ${g.verdict} (${g.reason})`)
    .join("; ");
  return [
    `r${d.revision} ${d.state}`,
    `${d.updatedInstances}/${d.totalInstances} updated`,
    waveLine(d),
    ...(gates ? [`gate: ${gates}`] : []),
    d.reason,
  ].join("  |  ");
}

/**
 * Draws a deployment's progress until it ends: the event stream says when something moved (its
 * deployment and instance events for the group), the record says what. Exit 0 on COMPLETED, 1
 * otherwise (ROLLED_BACK, FAILED).
 */
export async function watchDeployment(a: Api, out: Output, group: string, revision: number): Promise<number> {
  let stream: AsyncIterator<SseMessage> | undefined;
  let next: Promise<IteratorResult<SseMessage>> | undefined;
  const connect = async () => {
    try {
      const ticket = await a.events.ticket();
      const res = await a.http.send("GET", a.events.streamPath, {
        query: { ticket },
        headers: { accept: "text/event-stream" },
        stream: true,
        auth: false,
      });
      stream = readSse(res)[Symbol.asyncIterator]();
      next = stream.next();
    } catch (err) {
      // Without the stream the record is still read on the refresh interval.
      out.note(`event stream unavailable (${(err as Error).message}); polling`);
      stream = undefined;
      next = undefined;
    }
  };
  await connect();
  let last = "";
  for (;;) {
    const d = await a.deployments.get(group, revision);
    const line = progressLine(d);
    if (line !== last) {
      if (isMachine(out)) printData(out, d);
      else out.print(line);
      last = line;
    }
    if (ENDED.has(d.state)) return d.state === "COMPLETED" ? EXIT.OK : EXIT.ERROR;
    // Wait for an event of this group or the refresh interval, whichever comes first.
    const deadline = systemClock.now() + WATCH_REFRESH_MS;
    for (;;) {
      const left = deadline - systemClock.now();
      if (left <= 0 || next === undefined) {
        if (next === undefined) await systemClock.sleep(Math.max(0, left));
        break;
      }
      const got = await Promise.race([next, systemClock.sleep(left).then(() => undefined)]);
      if (got === undefined) break;
      if (got.done) {
        await connect();
        break;
      }
      next = stream?.next();
      if (concerns(got.value, group)) break;
    }
  }
}

function concerns(message: SseMessage, group: string): boolean {
  try {
    const event = JSON.parse(message.data) as {
      type?: string;
      group?: string;
      payload?: { groupName?: string; group?: string };
    };
    const g = event.group ?? event.payload?.groupName ?? event.payload?.group;
    return g === group && (event.type?.startsWith("DEPLOYMENT_") || event.type === "INSTANCE_STATE_CHANGED");
  } catch {
    // not an event of ours: it does not wake the wait
    return false;
  }
}

function revisionOf(value: string | undefined, what: string): number {
  const rev = parseInteger(value?.replace(/^r/, ""), what, { min: 1 });
  if (rev === undefined) throw new CliError(`${what} is required (a revision number, e.g. 3)`, EXIT.USAGE);
  return rev;
}

export const deployCommand = leaf({
  name: "deploy",
  description:
    "Roll a group to a new revision (template pins, strategy, rollout knobs), or list/show/pause/resume/rollback its deployments",
  examples: [
    "prexorctl deploy lobby --template lobby:v2 --batch-size 1 --max-unavailable 0 -y --watch",
    "prexorctl deploy lobby --strategy CANARY --canary 1 --min-healthy 30 --auto-rollback -y",
    "prexorctl deploy list lobby",
    "prexorctl deploy show lobby 3",
    "prexorctl deploy pause lobby 3",
    "prexorctl deploy resume lobby 3 --watch",
    "prexorctl deploy rollback lobby 3 -y",
    "prexorctl deploy save lobby-2 --to-template lobby",
  ],
  args: {
    target: {
      type: "positional",
      required: true,
      description: "group name, or list|show|pause|resume|rollback|save",
    },
    group: { type: "positional", required: false, description: "group name (the instance for save)" },
    revision: { type: "positional", required: false, description: "deployment revision" },
    template: { type: "string", description: "NAME:VERSION to pin (vN, hash prefix or current); repeatable" },
    strategy: { type: "string", description: "ROLLING (default), CANARY or BLUE_GREEN" },
    "batch-size": { type: "string", description: "instances replaced per wave (default 1)" },
    "max-unavailable": { type: "string", description: "instances allowed down at once (default 0: surge)" },
    "max-surge": { type: "string", description: "extra instances allowed at once (default: batch size)" },
    canary: { type: "string", description: "canary instances in the first wave" },
    "canary-instances": { type: "string", description: "same as --canary" },
    "canary-percent": { type: "string", description: "canaries as a percentage of the instances" },
    "health-gate": { type: "boolean", description: "hold each wave until replacements are healthy" },
    "min-healthy": { type: "string", description: "seconds RUNNING before a replacement counts healthy" },
    "promotion-timeout": { type: "string", description: "seconds after --min-healthy to pass the gate" },
    "replacement-timeout": { type: "string", description: "seconds for a replacement to reach RUNNING" },
    "drain-timeout": {
      type: "string",
      description: "BLUE_GREEN: seconds blue keeps its players after the switch (default 60)",
    },
    "auto-rollback": { type: "boolean", description: "roll back automatically when a wave fails" },
    "min-healthy-tps": { type: "string", description: "TPS floor a replacement must hold (when reported)" },
    page: { type: "string", description: "list: page (default 1)" },
    "to-template": { type: "string", description: "save: the template that gets the new version" },
    "page-size": { type: "string", description: "list: page size (default 50, max 100)" },
    watch: { type: "boolean", description: "follow the rollout; exit 0 on COMPLETED, non-zero otherwise" },
    yes: { type: "boolean", alias: "y", description: "do not ask for confirmation" },
  },
  async run({ args, rawArgs, api, out }) {
    const a = api();
    const action = ACTIONS.has(args.target) ? args.target : "deploy";
    const group = action === "deploy" ? args.target : args.group;
    if (!group) throw new CliError(`deploy ${action}: a group name is required`, EXIT.USAGE);

    switch (action) {
      case "save": {
        const template = args["to-template"];
        if (!template) throw new CliError("deploy save: --to-template is required", EXIT.USAGE);
        const saved = await a.deployments.saveToTemplate(group, template);
        printDone(
          out,
          `instance "${group}": ${saved.files.length} text file(s) saved to template "${template}" (version ${saved.version.hash.slice(0, 12)})`,
          saved,
        );
        return;
      }
      case "list": {
        const page = parseInteger(args.page, "--page", { min: 1 });
        const pageSize = parseInteger(args["page-size"], "--page-size", { min: 1, max: 100 });
        const rows = await a.deployments.list(group, page, pageSize);
        printList(
          out,
          rows.data,
          [
            { header: "REV", value: (d) => d.revision },
            { header: "STATE", value: (d) => d.state },
            { header: "STRATEGY", value: (d) => d.strategy },
            { header: "TRIGGER", value: (d) => d.trigger },
            { header: "UPDATED", value: (d) => `${d.updatedInstances}/${d.totalInstances}` },
            { header: "CREATED", value: (d) => d.createdAt ?? "" },
            { header: "REASON", value: (d) => d.reason, wide: true },
          ],
          { what: "deployment", name: (d) => `${group}/${d.revision}` },
        );
        return;
      }
      case "show": {
        const d = await a.deployments.get(group, revisionOf(args.revision, "revision"));
        if (isMachine(out)) printData(out, d);
        else {
          printItem(out, { ...d, waves: undefined, gates: undefined });
          for (const w of d.waves)
            out.print(
              `  wave ${w.index} ${w.kind} ${w.verdict}: ${w.replaced.map((r) => `${r.old} → ${r.new ?? "?"}`).join(", ")}  (${w.reason})`,
            );
        }
        return;
      }
      case "pause":
      case "resume": {
        const rev = revisionOf(args.revision, "revision");
        const d =
          action === "pause" ? await a.deployments.pause(group, rev) : await a.deployments.resume(group, rev);
        printDone(out, `deployment r${rev} of "${group}" ${d.state}`, d);
        return args.watch && action === "resume" ? watchDeployment(a, out, group, rev) : undefined;
      }
      case "rollback": {
        const rev = revisionOf(args.revision, "revision");
        await confirm(`Roll group "${group}" back from r${rev}?`, args.yes === true);
        const d = await a.deployments.rollback(group, rev);
        printDone(
          out,
          `rollback r${d.revision} of "${group}" started (restores the revision before r${rev})`,
          d,
        );
        return args.watch ? watchDeployment(a, out, group, d.revision) : undefined;
      }
    }

    const int = (flag: string, min: number) =>
      parseInteger(args[flag as keyof typeof args] as string | undefined, `--${flag}`, { min });
    const body: DeployRequest = {
      ...(args.strategy ? { strategy: args.strategy.toUpperCase() as DeployRequest["strategy"] } : {}),
      ...(templatePins(args.template) ? { templates: templatePins(args.template) } : {}),
    };
    const knobs: Record<string, number | boolean | undefined> = {
      batchSize: int("batch-size", 1),
      maxUnavailable: int("max-unavailable", 0),
      maxSurge: int("max-surge", 0),
      canaryInstances: int("canary", 0) ?? int("canary-instances", 0),
      canaryPercent: int("canary-percent", 0),
      minHealthySeconds: int("min-healthy", 0),
      promotionTimeoutSeconds: int("promotion-timeout", 1),
      replacementTimeoutSeconds: int("replacement-timeout", 1),
      drainTimeoutSeconds: int("drain-timeout", 1),
      healthGateEnabled: switchOf(rawArgs, "health-gate"),
      autoRollbackOnFailure: switchOf(rawArgs, "auto-rollback"),
    };
    if (args["min-healthy-tps"] !== undefined) {
      const tps = Number(args["min-healthy-tps"]);
      if (!Number.isFinite(tps)) throw new CliError("--min-healthy-tps: expected a number", EXIT.USAGE);
      knobs.minHealthyTps = tps;
    }
    for (const [k, v] of Object.entries(knobs)) if (v !== undefined) (body as Record<string, unknown>)[k] = v;
    await confirm(`Deploy group "${group}" (${body.strategy ?? "ROLLING"})?`, args.yes === true);
    const d = await a.deployments.deploy(group, body);
    printDone(
      out,
      `deployment r${d.revision} of "${group}" started (${d.strategy}, ${d.totalInstances} instances)`,
      d,
    );
    return args.watch ? watchDeployment(a, out, group, d.revision) : undefined;
  },
});
