import type { ControllerConfig } from "../../config/controller-config.ts";
import { AuditLog } from "../audit/audit-log.ts";
import { startAuditPruner } from "../audit/audit-pruner.ts";
import { LoginLockout } from "../auth/login-lockout.ts";
import { RoleService } from "../auth/role-service.ts";
import { TokenService } from "../auth/token-service.ts";
import { startUnlockInbox, unlockInbox } from "../auth/unlock-inbox.ts";
import { UserService } from "../auth/user-service.ts";
import type { BootBase } from "./base.ts";
import type { Steps } from "./start-sequence.ts";

export interface AuthWiring {
  tokens: TokenService;
  roles: RoleService;
  users: UserService;
  audit: AuditLog;
}

/**
 * Who may call the API and what it did: tokens, roles, users and the audit log. Constructed only;
 * the `prexor admin unlock` inbox and the audit pruner are registered on the start sequence.
 */
export function wireAuth(
  base: BootBase,
  deps: {
    /** the JWT signing secret, resolved (or generated) in the open phase */
    jwtSecret: string;
    security: Pick<ControllerConfig["security"], "jwtPreviousSecrets" | "jwtExpirationMinutes" | "lockout">;
    auditRetentionDays: number;
    /** where `prexor admin unlock` drops its requests (see unlock-inbox.ts) */
    unlockInbox: { root: string; dataDir: string };
    /** where a generated bootstrap password is written for the operator */
    initialPasswordFile: string;
  },
  steps: Steps,
): AuthWiring {
  const { store, coord, log, clock } = base;
  const { security } = deps;
  const now = () => clock.now();
  const lockout = new LoginLockout(coord, security.lockout);
  steps.add("unlock inbox", () =>
    startUnlockInbox(unlockInbox(deps.unlockInbox.root, deps.unlockInbox.dataDir), lockout, log),
  );
  const tokens = new TokenService(
    deps.jwtSecret,
    security.jwtPreviousSecrets,
    security.jwtExpirationMinutes * 60,
    coord,
    now,
  );
  const roles = new RoleService(store, clock);
  const users = new UserService(store, roles, deps.initialPasswordFile, clock);
  const audit = new AuditLog(store, now);
  steps.add("audit pruner", () =>
    startAuditPruner({
      audit,
      coord,
      controllerId: base.controllerId,
      retentionDays: deps.auditRetentionDays,
      log,
    }),
  );
  return { tokens, roles, users, audit };
}
