/** Polls a condition until it holds or the deadline passes; the only way tests wait. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const interval = options.intervalMs ?? 20;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    await Bun.sleep(interval);
  }
  const reason = lastError ? ` (last error: ${(lastError as Error).message})` : "";
  throw new Error(
    `timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${options.what ?? "condition"}${reason}`,
  );
}

export function randomId(prefix = "t"): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}
