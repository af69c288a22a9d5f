import { systemClock } from "../../core/clock.ts";
import { AppError, isAppError } from "../../core/errors.ts";
import { isTerminalState } from "../../core/lifecycle/index.ts";
import type { Logger } from "../../log/logger.ts";
import type { DurableStore, Fence } from "../../store/port.ts";
import { FailureDisposition, StartInstance, type StartInstanceAck } from "../../wire/index.ts";
import { planToWire } from "../../wire/plan-wire.ts";
import type { CatalogEntry } from "../catalog/catalog-service.ts";
import type { RevisionSpecs } from "../deployments/revision-specs.ts";
import type { GroupService } from "../groups/group-service.ts";
import type { SessionRegistry } from "../grpc/session-registry.ts";
import type { NetworkSpec } from "../networks/network-service.ts";
import type { NodeService } from "../nodes/node-service.ts";
import type { TemplateService } from "../templates/template-service.ts";
import type { WorkloadTokens } from "../workload/workload-tokens.ts";
import type { ConsoleBuffer } from "./console-buffer.ts";
import { COMPOSITION_PLANS, type InstanceDoc, type PlanDoc } from "./instance-doc.ts";
import type { DrainRequest, InstanceLifecycle, PlaceRequest, StopRequest } from "./instance-lifecycle.ts";
import type { InstanceService } from "./instance-service.ts";
import { classifyPlanFailure, PlanComposer } from "./plan-composer.ts";
import { StartRetries } from "./start-retries.ts";

export interface StartFailure {
  code: string;
  message: string;
  instanceId: string;
  permanent: boolean;
}

/** A placement whose plan is not sealed after this long is dead even without a newer fence. */
const UNSEALED_PLACEMENT_MS = 60_000;
/** Console lines the daemon replays when the controller subscribes after an accepted start. */
const CONSOLE_BACKLOG = 200;

export interface LifecycleDeps {
  store: DurableStore;
  instances: InstanceService;
  groups: GroupService;
  /** the group settings and template pins of a deployment revision */
  revisions: Pick<RevisionSpecs, "groupAt" | "pinsOf">;
  /** the catalog, falling back to the PaperMC downloads API (CatalogResolver) */
  catalog: { resolve(platform: string, version: string): Promise<CatalogEntry> };
  templates: TemplateService;
  sessions: SessionRegistry;
  /** the node records: whether a node is connected to some controller */
  nodes: Pick<NodeService, "isConnected">;
  tokens: WorkloadTokens;
  console: ConsoleBuffer;
  /** REST base URL handed to the plugin as CLOUD_CONTROLLER_URL */
  controllerUrl: () => string;
  log: Logger;
  now?: () => number;
  metrics?: { compositionPlanningFailed(): void };
  /** controller.yml `minecraft.acceptEula`: the operator accepted the EULA for every group */
  acceptEula?: boolean;
  /** the network compositions, for each group's forwarding role */
  networks?: { list(): Promise<NetworkSpec[]> };
  /** the cluster's modern-forwarding secret (sealed in the store; see networks/forwarding-secret.ts) */
  forwardingSecret?: () => Promise<string>;
  /** the last fencing token coordination handed out for a scope (Coordination.fencingToken) */
  leaseTokenOf?: (scope: string) => Promise<number>;
  /**
   * A plan or start failure that ended the instance. PERMANENT: retrying cannot fix it, so the wiring
   * pauses the group; TRANSIENT (retries used up): it counts toward the crash-loop detector.
   */
  onStartFailure?: (group: string, failure: StartFailure) => Promise<void>;
}

/**
 * The controller half of an instance's life: place writes the SCHEDULED record and seals and
 * persists the composition plan BEFORE anything is sent, then dispatches StartInstance on the
 * node's session; acks and state frames move it on (see LifecycleReconciler). Re-dispatch always
 * re-reads the persisted plan, so the daemon sees the same planHash and does not start twice.
 */
export class StoreInstanceLifecycle implements InstanceLifecycle {
  readonly retries: StartRetries;
  private readonly log: Logger;
  private readonly composer: PlanComposer;

  constructor(private readonly deps: LifecycleDeps) {
    this.log = deps.log.child({ component: "instances" });
    this.composer = new PlanComposer({
      groups: deps.groups,
      revisions: deps.revisions,
      catalog: deps.catalog,
      templates: deps.templates,
      controllerUrl: deps.controllerUrl,
      log: this.log,
      ...(deps.acceptEula !== undefined ? { acceptEula: deps.acceptEula } : {}),
      ...(deps.networks ? { networks: deps.networks } : {}),
    });
    this.retries = new StartRetries({
      store: deps.store,
      holdsSession: (nodeId) => deps.sessions.get(nodeId) !== undefined,
      log: this.log,
      ...(deps.now ? { now: deps.now } : {}),
    });
  }

  /**
   * Starts the durable start-retry pump (boot calls this; tests may pump by hand). The pump only
   * sends for nodes whose session this controller holds, so each retry writes under that fence.
   */
  startRetryPump(): void {
    this.retries.start({
      dispatch: (instanceId, node) => this.dispatch(instanceId, this.deps.sessions.get(node)?.writeFence()),
    });
  }

  /**
   * A pruned record's plan and start-retry intent, each only if still for the plan the record had
   * (an id placed again since has a newer plan, which stays).
   */
  async forgetPruned(instanceId: string, planHash: string): Promise<void> {
    await this.plans.deleteMany({ _id: instanceId, planHash });
    await this.retries.forget(instanceId, planHash);
  }

  private get plans() {
    return this.deps.store.collection<PlanDoc>(COMPOSITION_PLANS);
  }

  private now(): number {
    return (this.deps.now ?? systemClock.now)();
  }

  async place(request: PlaceRequest): Promise<void> {
    const { instances } = this.deps;
    const existing = await instances.get(request.instanceId);
    if (existing && !isTerminalState(existing.state)) {
      // The loop (or an operator) placed an id that is already live: at most re-send its own plan.
      if (existing.state === "SCHEDULED") await this.dispatch(request.instanceId, request.fence);
      return;
    }
    const group = await this.deps.revisions.groupAt(request.group, request.deploymentRevision ?? 0);
    const now = this.now();
    await instances.record(
      {
        _id: request.instanceId,
        group: request.group,
        node: request.node,
        state: "SCHEDULED",
        port: request.port,
        planHash: "",
        createdAt: now,
        stateChangedAt: now,
        players: 0,
        reason: request.reason,
        lastCrashId: null,
        startError: null,
        awaitPluginReady: group.readiness === "PLUGIN",
        deploymentRevision: request.deploymentRevision ?? 0,
        ...(request.replaces !== undefined ? { replaces: request.replaces } : {}),
      },
      { fence: request.fence },
    );
    try {
      const plan = await this.composer.compose(request, group, now);
      // Persisted before dispatch: a controller that takes over re-sends exactly this plan.
      await this.plans.put(plan, { fence: request.fence });
      await instances.patch(request.instanceId, { planHash: plan.planHash }, { fence: request.fence });
    } catch (err) {
      if (isAppError(err, "STALE_FENCING_TOKEN")) throw err;
      const message = (err as Error).message;
      const { code, permanent } = classifyPlanFailure(err);
      this.log.warn(
        { instanceId: request.instanceId, code, permanent, err },
        "could not build the composition plan",
      );
      await instances.transition(
        request.instanceId,
        "CRASHED",
        `plan failed: ${message}`,
        { startError: { code, message, disposition: permanent ? "PERMANENT" : "TRANSIENT" } },
        { fence: request.fence },
      );
      this.deps.metrics?.compositionPlanningFailed();
      await this.deps.onStartFailure?.(request.group, {
        code,
        message,
        instanceId: request.instanceId,
        permanent,
      });
      return;
    }
    await this.dispatch(request.instanceId, request.fence);
  }

  /**
   * Sends the persisted plan to its node with a freshly minted plugin token. No session here means
   * the start stays SCHEDULED; the reconciler re-dispatches when the node says Hello. `fence` is the
   * decision's: the group lease's when placing, the node session's when a report or retry re-sends.
   */
  async dispatch(instanceId: string, fence: Fence | undefined): Promise<boolean> {
    const plan = await this.plans.get(instanceId);
    const doc = await this.deps.instances.get(instanceId);
    if (!plan || !doc || doc.state !== "SCHEDULED") return false;
    const token = await this.deps.tokens.mint({ instanceId, group: doc.group });
    const forwardingSecret =
      plan.dispatch.forwarding && this.deps.forwardingSecret ? await this.deps.forwardingSecret() : "";
    const frame = StartInstance.create({
      instanceId,
      group: doc.group,
      plan: planToWire(plan, Date.parse(plan.createdAt)),
      pluginToken: token,
      startupTimeoutSeconds: plan.dispatch.startupTimeoutSeconds,
      shutdownGraceSeconds: plan.dispatch.shutdownGraceSeconds,
      maxLifetimeSeconds: plan.dispatch.maxLifetimeSeconds,
      maxPlayers: plan.dispatch.maxPlayers,
      fence: { scope: plan.fencing.scope, token: plan.fencing.token },
      launchArgv: plan.dispatch.launchArgv,
      readiness: plan.dispatch.readiness,
      forwardingSecret,
    });
    const outcome = this.deps.sessions.deliver(doc.node, { case: "startInstance", value: frame });
    const sent = outcome !== "no-session" && outcome !== "closed" && outcome !== "overflow";
    if (sent) {
      // Bookkeeping only: the node may already have answered (a STALE_FENCE refusal ends the record
      // with its own reason), so the reason read before the send must not be written back over it.
      // Only a delivery counts toward the redispatch verdict: a start relayed to nobody was not sent.
      await this.deps.instances.patch(
        instanceId,
        { dispatchedAt: this.now(), dispatchCount: (doc.dispatchCount ?? 0) + 1 },
        { fence },
      );
    } else {
      await this.notePending(doc, fence);
    }
    this.log.info({ instanceId, node: doc.node, planHash: plan.planHash, sent }, "StartInstance dispatched");
    return sent;
  }

  /**
   * A start relayed to nobody: the record says why it waits, unless it changed since it was read
   * (a stop, a crash report): that newer write's reason stands.
   */
  private async notePending(doc: InstanceDoc, fence: Fence | undefined): Promise<void> {
    try {
      await this.deps.instances.patch(
        doc._id,
        { dispatchedAt: this.now(), reason: `node ${doc.node} not connected; start pending` },
        { fence, ifRev: doc._rev },
      );
    } catch (err) {
      if (!(err instanceof AppError && err.code === "CONFLICT")) throw err;
      // changed concurrently: the newer write is the record's truth, and the next report re-checks it
    }
  }

  /**
   * A SCHEDULED start the node never saw; a pending retry owns its timing, so it is left alone.
   * `fence` is the node session's that read the report (as for every repair below).
   */
  async recover(instanceId: string, fence?: Fence): Promise<boolean> {
    if (await this.retries.pending(instanceId)) return false;
    if (await this.endUnsealed(instanceId, fence)) return false;
    return this.dispatch(instanceId, fence);
  }

  /**
   * A SCHEDULED record without a sealed plan: its placer wrote the record and stopped before
   * sealing (a controller killed mid-placement). Nothing can ever send it, so it ends STOPPED and the
   * scheduler places the instance again. Ended only once the placement is provably dead: the scope
   * has a newer token than the record's — in the store (a later holder wrote, so the old placer's
   * seal would be fenced out) or in coordination (the lease was granted again since: the placer lost
   * it, and a later holder that finds the group at its count writes nothing, so the store alone
   * would wait the full minute) — or the record is older than any plan build takes. A placer that
   * lost its lease and still seals late cannot start anything: dispatch only sends SCHEDULED records.
   */
  private async endUnsealed(instanceId: string, fence: Fence | undefined): Promise<boolean> {
    const doc = await this.deps.instances.get(instanceId);
    if (doc?.state !== "SCHEDULED" || doc.planHash !== "" || (await this.plans.get(instanceId))) return false;
    const placed = doc._fence;
    const superseded =
      placed !== undefined &&
      (placed.token < (await this.deps.store.fenceHighWater(placed.scope)) ||
        placed.token < ((await this.deps.leaseTokenOf?.(placed.scope)) ?? 0));
    if (!superseded && this.now() - doc.stateChangedAt < UNSEALED_PLACEMENT_MS) return false;
    await this.deps.instances.transition(
      instanceId,
      "STOPPED",
      "placed, but its plan was never sealed (its controller stopped mid-placement); placed again",
      {},
      { fence },
    );
    return true;
  }

  async stop(request: StopRequest): Promise<void> {
    const { instances } = this.deps;
    const doc = await instances.require(request.instanceId);
    if (isTerminalState(doc.state)) return;
    if (doc.state === "SCHEDULED" && !(await this.nodeConnected(doc.node))) {
      // Never reached the node: nothing to stop there.
      await instances.transition(doc._id, "STOPPED", request.reason, {}, { fence: request.fence });
      return;
    }
    const stopFence = { scope: request.fence.scope, token: request.fence.token };
    await instances.transition(
      doc._id,
      "STOPPING",
      request.reason,
      { stopFence, stopForce: request.force === true, stopSentAt: this.now() },
      { fence: request.fence },
    );
    this.sendStop(doc._id, doc.node, request.reason, stopFence, request.force === true);
  }

  /**
   * The node still runs an instance the controller is stopping: the StopInstance was lost (relayed
   * to nobody, a stream that broke, a controller paused between the write and the send). Sent again
   * as decided; stopping is idempotent on the daemon. The fence is raised to the scope's high-water
   * mark in the store: the record's STOPPING passed the store's fence check, so the decision stands,
   * and a newer holder's token the daemon has seen since must not make it refuse the repeat.
   */
  async resendStop(instanceId: string, force = false, sessionFence?: Fence): Promise<boolean> {
    const doc = await this.deps.instances.get(instanceId);
    if (doc?.state !== "STOPPING" || !doc.stopFence) return false;
    const highWater = await this.deps.store.fenceHighWater(doc.stopFence.scope);
    const fence = { scope: doc.stopFence.scope, token: Math.max(doc.stopFence.token, highWater) };
    const forced = force || doc.stopForce === true;
    await this.deps.instances.patch(
      instanceId,
      { stopSentAt: this.now(), stopCount: (doc.stopCount ?? 1) + 1, stopForce: forced },
      { fence: sessionFence },
    );
    this.log.info(
      { instanceId, node: doc.node, force: forced },
      "StopInstance sent again: the node still runs it",
    );
    return this.sendStop(instanceId, doc.node, doc.reason ?? "stop requested", fence, forced);
  }

  /**
   * An instance stuck before its start (the node still PREPARING long past any download): the
   * record ends CRASHED, so the scheduler places the group's instance again, and the node is told
   * to stop it, under its plan's fence raised to the scope's high-water mark (see resendStop).
   */
  async stopStuck(instanceId: string, reason: string, sessionFence?: Fence): Promise<void> {
    const doc = await this.deps.instances.get(instanceId);
    if (doc === null || isTerminalState(doc.state)) return;
    const plan = await this.plans.get(instanceId);
    const scope = plan?.fencing.scope ?? `group:${doc.group}`;
    const token = Math.max(plan?.fencing.token ?? 0, await this.deps.store.fenceHighWater(scope));
    this.sendStop(instanceId, doc.node, reason, { scope, token }, true);
    await this.deps.instances.transition(
      instanceId,
      "CRASHED",
      reason,
      { lostAt: this.now(), lostReason: reason },
      { fence: sessionFence },
    );
  }

  /**
   * A process a node runs that no live record accounts for (see LifecycleReconciler.cameBack). The
   * fence is the instance's group scope at the store's high-water mark: the record's end passed the
   * store's fence check, so the stop is the current decision, not a stale one.
   */
  async stopOrphan(nodeId: string, instanceId: string, group: string, reason: string): Promise<void> {
    const scope = `group:${group}`;
    const token = await this.deps.store.fenceHighWater(scope);
    this.sendStop(instanceId, nodeId, `nobody manages this process: ${reason}`, { scope, token }, false);
  }

  /**
   * The daemon refused a command for this instance as STALE_FENCE: a newer holder of the group's
   * lease has acted on the node since the command was decided. A start still waiting on such a plan
   * can never be accepted, so it ends here and the scheduler places the instance again under its
   * current lease (a fresh plan, a fresh fence).
   */
  async onStaleFence(nodeId: string, instanceId: string, sessionFence?: Fence): Promise<void> {
    const doc = await this.deps.instances.get(instanceId);
    if (!doc || doc.node !== nodeId || doc.state !== "SCHEDULED") return;
    await this.retries.clear(instanceId, sessionFence);
    await this.deps.instances.transition(
      instanceId,
      "STOPPED",
      "plan sealed under a superseded group lease; the scheduler places it again",
      {},
      { fence: sessionFence },
    );
  }

  private sendStop(
    instanceId: string,
    node: string,
    reason: string,
    fence: { scope: string; token: number },
    force: boolean,
  ): boolean {
    const outcome = this.deps.sessions.deliver(node, {
      case: "stopInstance",
      value: { instanceId, force, reason, fence },
    });
    return outcome !== "no-session" && outcome !== "closed" && outcome !== "overflow";
  }

  async drain(request: DrainRequest): Promise<void> {
    await this.deps.instances.drain(request.instanceId, request.reason, { fence: request.fence });
  }

  async undrain(request: DrainRequest): Promise<void> {
    await this.deps.instances.undrain(request.instanceId, request.reason, { fence: request.fence });
  }

  async plan(instanceId: string): Promise<PlanDoc> {
    const plan = await this.plans.get(instanceId);
    if (!plan) throw new AppError("NOT_FOUND", `no composition plan for instance "${instanceId}"`);
    return plan;
  }

  /** The daemon answered a StartInstance; `sessionFence` is the session's that received the ack. */
  async onStartAck(nodeId: string, ack: StartInstanceAck, sessionFence?: Fence): Promise<void> {
    const w = { fence: sessionFence };
    const doc = await this.deps.instances.get(ack.instanceId);
    if (!doc || doc.node !== nodeId) return;
    if (ack.accepted) {
      await this.retries.clear(ack.instanceId, sessionFence);
      if (doc.state === "SCHEDULED")
        await this.deps.instances.transition(doc._id, "PREPARING", "start accepted", {}, w);
      this.deps.sessions.send(nodeId, {
        case: "consoleSubscribe",
        value: { instanceId: doc._id, backlogLines: CONSOLE_BACKLOG },
      });
      return;
    }
    const startError = {
      code: ack.errorCode,
      message: ack.errorMessage,
      disposition: FailureDisposition[ack.disposition] ?? "UNSPECIFIED",
    };
    if (doc.state !== "SCHEDULED") return;
    if (ack.disposition === FailureDisposition.TRANSIENT) {
      const outcome = await this.retries.refused(
        doc,
        `${ack.errorCode}: ${ack.errorMessage}`,
        ack.retryAfterSeconds,
        sessionFence,
      );
      this.log.warn(
        { instanceId: doc._id, attempt: outcome.attempt, retry: outcome.retry, ...startError },
        "daemon refused the start",
      );
      if (outcome.retry) {
        await this.deps.instances.patch(doc._id, { startError }, w);
        return;
      }
    } else {
      await this.retries.clear(doc._id, sessionFence);
      this.log.warn({ instanceId: doc._id, ...startError }, "daemon refused the start permanently");
    }
    await this.deps.instances.transition(
      doc._id,
      "CRASHED",
      `start failed: ${ack.errorCode}`,
      { startError },
      w,
    );
    await this.deps.onStartFailure?.(doc.group, {
      code: ack.errorCode,
      message: ack.errorMessage,
      instanceId: doc._id,
      permanent: ack.disposition !== FailureDisposition.TRANSIENT,
    });
  }

  sendCommand(doc: InstanceDoc, command: string): boolean {
    const outcome = this.deps.sessions.deliver(doc.node, {
      case: "sendCommand",
      value: { instanceId: doc._id, command },
    });
    return outcome !== "no-session" && outcome !== "closed" && outcome !== "overflow";
  }

  close(): void {
    this.retries.stop();
  }

  /** Connected here or to another controller: a start sent there may have reached it. */
  private async nodeConnected(nodeId: string): Promise<boolean> {
    if (this.deps.sessions.get(nodeId)) return true;
    return this.deps.nodes.isConnected(nodeId);
  }
}
