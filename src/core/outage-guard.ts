import { AppError, type ErrorCode, isAppError } from "./errors.ts";

/**
 * Wraps an adapter so that every method whose promise rejects with a connectivity failure of the
 * backing service rejects with the port's outage code instead (STORE_UNAVAILABLE,
 * COORDINATION_UNAVAILABLE): callers, the HTTP mapper included, then answer 503 + Retry-After
 * rather than 500, without knowing which driver is behind the port. Other errors pass unchanged.
 */
export function guardOutages<T extends object>(
  target: T,
  code: Extract<ErrorCode, "STORE_UNAVAILABLE" | "COORDINATION_UNAVAILABLE">,
  what: string,
  isOutage: (err: unknown) => boolean,
): T {
  const translate = (err: unknown): never => {
    if (!isAppError(err) && isOutage(err)) {
      throw new AppError(code, `${what} is unreachable: ${(err as Error).message}`, undefined, {
        cause: err,
      });
    }
    throw err;
  };
  // One wrapper per method, made on first use: these adapters sit on every request's path.
  const wrappers = new Map<PropertyKey, { method: unknown; wrapper: unknown }>();
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      const cached = wrappers.get(property);
      if (cached?.method === value) return cached.wrapper;
      const wrapper = function (this: unknown, ...args: unknown[]) {
        const result = value.apply(this === receiver ? object : this, args);
        return result instanceof Promise ? result.catch(translate) : result;
      };
      wrappers.set(property, { method: value, wrapper });
      return wrapper;
    },
  });
}
