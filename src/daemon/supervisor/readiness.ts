/** How the daemon decides a started process is ready (either signal suffices). */
export interface ReadinessSpec {
  /** A console line matching this means ready; false disables the console signal. */
  readonly console?: RegExp | false;
  /** Poll the instance port with a Server List Ping until it answers. */
  readonly ping?: boolean;
}

// Paper, Purpur, Folia, Spigot, vanilla and Fabric servers and Velocity all log `Done (1.234s)!`.
const DONE_LINE = /Done \(\d+(?:[.,]\d+)?s\)!/;
// BungeeCord and Waterfall announce their listener instead.
const BUNGEE_LISTENING = /Listening on \/\S+:\d+/;

/** The ready line a platform prints once it accepts players. */
export function readyPatternFor(platform: string): RegExp {
  const normalized = platform.toUpperCase();
  return normalized === "BUNGEECORD" || normalized === "WATERFALL" ? BUNGEE_LISTENING : DONE_LINE;
}

/** Both signals, the console pattern by platform. */
export function defaultReadiness(platform: string): Required<ReadinessSpec> {
  return { console: readyPatternFor(platform), ping: true };
}
