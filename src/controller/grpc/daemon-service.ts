import { type CallContext, ServerError, type ServiceImplementation, Status } from "nice-grpc";
import { peerIdentityFromMetadata } from "../pki/index.ts";
import type { IncomingFrame, ServedDaemonServiceDefinition } from "./daemon-frames.ts";
import { DaemonSession, type SessionDeps } from "./daemon-session.ts";

/** DaemonService.Connect: every stream becomes a DaemonSession bound to the certificate's CN. */
export function daemonService(
  deps: SessionDeps,
): ServiceImplementation<typeof ServedDaemonServiceDefinition> {
  return {
    async *connect(requests: AsyncIterable<IncomingFrame>, context: CallContext) {
      // The identity interceptor has already refused callers without a verified certificate; this
      // only guards against the service being mounted without it.
      const identity = peerIdentityFromMetadata(context.metadata);
      if (!identity) throw new ServerError(Status.UNAUTHENTICATED, "Client certificate required");
      yield* new DaemonSession(deps, identity, context.peer).run(requests, context.signal);
    },
  };
}
