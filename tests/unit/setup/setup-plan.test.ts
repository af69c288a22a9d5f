import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { planSetup, type SetupInput, type Step } from "../../../src/roles/setup-plan.ts";

/** The setup planner is pure: the same input gives the same steps, and the production defaults hold. */
const base: SetupInput = {
  role: "controller",
  profile: "production",
  bind: "0.0.0.0",
  httpPort: 8080,
  grpcPort: 9090,
  mongoUri: "mongodb://db:27017",
  redisUri: "redis://cache:6379",
  clusterSecret: "c2VjcmV0",
  bootstrap: true,
  nodeId: "node-1",
  controller: { host: "10.0.0.1", port: 9090 },
  rekorPublicKeyPem: "REKOR",
  moduleTrustPem: "TRUST",
  moduleSigningKeyPem: "PRIVATE",
};

const file = (steps: Step[], path: string) => {
  const step = steps.find((s) => s.kind === "file" && s.path === path);
  if (step?.kind !== "file") throw new Error(`no file step for ${path}`);
  return step;
};

describe("planSetup", () => {
  test("production controller: signing required, COSIGN_BUNDLE, REQUIRE_SET, files under /etc/prexorcloud", () => {
    const steps = planSetup(base);
    const config = file(steps, "/etc/prexorcloud/config/controller.yml");
    expect(config.mode).toBe(0o600);
    expect(config.keep).toBe(true);
    expect(parse(config.content).modules.signing).toEqual({
      required: true,
      mode: "COSIGN_BUNDLE",
      trustRoot: "/etc/prexorcloud/config/security/module-trust.pem",
      rekor: { policy: "REQUIRE_SET", publicKey: "/etc/prexorcloud/config/security/rekor.pub" },
    });
    expect(file(steps, "/etc/prexorcloud/secrets/module-signing.key").mode).toBe(0o600);
    expect(file(steps, "/etc/prexorcloud/config/security/rekor.pub").content).toBe("REKOR");
    expect(steps).toContainEqual({
      kind: "dir",
      path: "/etc/prexorcloud/config/security",
      mode: 0o700,
      owned: true,
    });
    expect(steps).toContainEqual({
      kind: "link",
      path: "/var/lib/prexorcloud/controller/config",
      target: "../../../../etc/prexorcloud/config",
    });
    expect(steps[0]).toEqual({ kind: "user", name: "prexorcloud" });
  });

  test("development controller does not require signatures", () => {
    const config = file(
      planSetup({ ...base, profile: "development" }),
      "/etc/prexorcloud/config/controller.yml",
    );
    expect(parse(config.content).modules.signing).toEqual({ required: false });
  });

  test("daemon: daemon.yml with the endpoint and the token, unit with the daemon limits", () => {
    const steps = planSetup({ ...base, role: "daemon", joinToken: "pxr_abc", nodeId: "mc-1" });
    expect(parse(file(steps, "/etc/prexorcloud/daemon/daemon.yml").content)).toEqual({
      nodeId: "mc-1",
      controller: { host: "10.0.0.1", grpcPort: 9090 },
      security: { joinToken: "pxr_abc" },
    });
    const unit = file(steps, "/etc/systemd/system/prexorcloud-daemon.service").content;
    expect(unit).toContain("ExecStart=/usr/local/bin/prexor daemon --root /var/lib/prexorcloud/daemon");
    expect(unit).toContain("LimitNOFILE=131072\nTasksMax=infinity");
    expect(steps.some((s) => s.kind === "file" && s.path.includes("controller.yml"))).toBe(false);
  });

  test("pure: the same input plans the same steps", () => {
    expect(planSetup(base)).toEqual(planSetup(base));
  });
});
