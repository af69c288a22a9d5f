/**
 * Resolves on the first SIGINT/SIGTERM. A second signal while shutting down exits at once, so an
 * operator is never stuck behind a hung teardown.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) process.exit(130);
      received = true;
      resolve(signal);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}
