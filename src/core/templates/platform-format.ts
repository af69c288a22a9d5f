/** Config formats the daemon knows how to seed and patch (proto `ConfigFormat`). */
export type ConfigFormat = "PAPER" | "SPIGOT" | "VELOCITY" | "BUNGEECORD" | "GEYSER";

// Forks read their parent's files, so they share its format and its platform base layer.
const FORMAT_BY_PLATFORM: Readonly<Record<string, ConfigFormat>> = {
  PAPER: "PAPER",
  PURPUR: "PAPER",
  FOLIA: "PAPER",
  SPIGOT: "SPIGOT",
  VELOCITY: "VELOCITY",
  BUNGEECORD: "BUNGEECORD",
  WATERFALL: "BUNGEECORD",
  GEYSER: "GEYSER",
};

/** The config format a platform's files follow, or undefined when the cloud has no format for it. */
export function configFormatOf(platform: string): ConfigFormat | undefined {
  return FORMAT_BY_PLATFORM[platform.trim().toUpperCase()];
}

/**
 * Name of the platform base layer: `base-<format>` (so `PURPUR` uses `base-paper`). Platforms without a
 * config format (e.g. `FABRIC`) still get their own `base-<platform>` layer.
 */
export function platformBaseTemplateName(platform: string): string {
  const normalized = platform.trim().toUpperCase();
  return `base-${(FORMAT_BY_PLATFORM[normalized] ?? normalized).toLowerCase()}`;
}
