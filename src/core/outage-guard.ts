import { systemClock } from "./clock.ts";
import { AppError, type ErrorCode, isAppError } from "./errors.ts";

/**
 * Shared by every guard of one backing service (the store and each of its collections): after an
 * outage error, calls fail at once for `openMs` instead of each waiting out its own timeout, so a
 * request that needs several operations answers 503 within one operation's bound, not the sum of
 * them. The first call after the window goes through and either closes it or opens it again.
 */
export class OutageBreaker {
  private openUntil = 0;
  constructor(
    readonly openMs = 1000,
    private readonly now: () => number = systemClock.now,
  ) {}

  isOpen(): boolean {
    return this.now() < this.openUntil;
  }

  trip(): void {
    this.openUntil = this.now() + this.openMs;
  }
}

/** Methods that always reach the service: a health probe must see the truth, not the breaker. */
const PROBES = new Set<PropertyKey>(["ping"]);

export interface OutageGuardOptions {
  /** shared by every guard of one service; opened by an outage error (see OutageBreaker) */
  breaker?: OutageBreaker;
  /**
   * A call not settled within this is answered with the outage code (and opens the breaker): a
   * server that is paused or black-holed keeps sockets open, and a driver's own timeouts add up
   * over reconnects, retries and server selection. The call itself runs on; a write may still land.
   */
  deadlineMs?: number;
  /** methods that may legitimately take longer than the deadline (bulk restore, retention sweeps) */
  unbounded?: ReadonlySet<PropertyKey>;
}

/**
 * Wraps an adapter so that every method whose promise rejects with a connectivity failure of the
 * backing service rejects with the port's outage code instead (STORE_UNAVAILABLE,
 * COORDINATION_UNAVAILABLE): callers, the HTTP mapper included, then answer 503 + Retry-After
 * rather than 500, without knowing which driver is behind the port. Other errors pass unchanged.
 * With a breaker, asynchronous methods fail fast while it is open; with a deadline, none waits
 * longer than it.
 */
export function guardOutages<T extends object>(
  target: T,
  code: Extract<ErrorCode, "STORE_UNAVAILABLE" | "COORDINATION_UNAVAILABLE">,
  what: string,
  isOutage: (err: unknown) => boolean,
  options: OutageGuardOptions = {},
): T {
  const { breaker, deadlineMs, unbounded } = options;
  const translate = (err: unknown): never => {
    if (!isAppError(err) && isOutage(err)) {
      breaker?.trip();
      throw new AppError(code, `${what} is unreachable: ${(err as Error).message}`, undefined, {
        cause: err,
      });
    }
    throw err;
  };
  const failFast = () =>
    Promise.reject(
      new AppError(code, `${what} is unreachable (it failed within the last ${breaker?.openMs} ms)`),
    );
  const bounded = (result: Promise<unknown>): Promise<unknown> => {
    if (deadlineMs === undefined) return result.catch(translate);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        breaker?.trip();
        reject(new AppError(code, `${what} did not answer within ${deadlineMs} ms`));
      }, deadlineMs);
    });
    // The losing side must not surface as an unhandled rejection.
    result.catch(() => undefined);
    return Promise.race([result.catch(translate), late]).finally(() => clearTimeout(timer));
  };
  // One wrapper per method, made on first use: these adapters sit on every request's path. Whether
  // a method is asynchronous is learnt from its first result, so a synchronous one (collection())
  // is never turned into a rejected promise.
  const wrappers = new Map<PropertyKey, { method: unknown; wrapper: unknown }>();
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      const cached = wrappers.get(property);
      if (cached?.method === value) return cached.wrapper;
      let asynchronous = false;
      const gated = breaker !== undefined && !PROBES.has(property);
      const limited = unbounded?.has(property) !== true;
      const wrapper = function (this: unknown, ...args: unknown[]) {
        if (gated && asynchronous && breaker.isOpen()) return failFast();
        const result = value.apply(this === receiver ? object : this, args);
        if (!(result instanceof Promise)) return result;
        asynchronous = true;
        return limited ? bounded(result) : result.catch(translate);
      };
      wrappers.set(property, { method: value, wrapper });
      return wrapper;
    },
  });
}
