/**
 * Helpers shared by the generated code in ./generated (see build/gen-proto.ts).
 */
import type { Long, Reader, Writer } from "protobufjs/minimal.js";

/** What gen:proto emits for every message: a codec object named like the message's interface. */
export interface MessageType<T> {
  /** Fully qualified protobuf name, for example `prexor.v1.Hello`. */
  readonly typeName: string;
  /** A message with every field at its default, overridden by `init`. */
  create(init?: Partial<T>): T;
  encode(message: T, writer?: Writer): Writer;
  /** Decodes a whole buffer, or `length` bytes from a reader positioned inside a larger one. */
  decode(input: Reader | Uint8Array, length?: number): T;
}

/**
 * 64-bit protobuf integers are surfaced as `number`: every 64-bit value in this protocol (epochs,
 * fencing tokens, byte counts, millisecond timestamps) stays far below 2^53. A value that does not
 * fit is rejected rather than silently rounded, because a rounded fencing token would be a wrong one.
 */
export function longToNumber(value: Long | number): number {
  // Computed from the raw halves so it works whether or not protobufjs found long.js. When the true
  // value exceeds 2^53 the float result is at least 2^53 in magnitude, so the check below catches it.
  const result =
    typeof value === "number"
      ? value
      : (value.unsigned ? value.high >>> 0 : value.high | 0) * 0x1_0000_0000 + (value.low >>> 0);
  if (!Number.isSafeInteger(result)) {
    throw new RangeError(`64-bit protobuf value ${String(result)} does not fit in a JavaScript number`);
  }
  return result;
}

/**
 * Stores a decoded map entry. Keys come from the peer, so `__proto__` must become an own property
 * instead of replacing the object's prototype.
 */
export function setMapEntry<V>(map: { [key: string]: V }, key: string, value: V): void {
  if (key === "__proto__") {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    map[key] = value;
  }
}
