/**
 * PaperMC's public downloads service, read for one thing: the newest acceptable build of a project
 * version, with the SHA-256 the service publishes for its server jar. Two shapes are understood:
 *
 * - v3 (Fill, current): `GET {base}/v3/projects/{project}/versions/{version}/builds` answers an array
 *   of builds, newest first, each `{ id, channel: ALPHA|BETA|STABLE|RECOMMENDED, downloads:
 *   { "server:default": { name, checksums: { sha256 }, size, url } } }`; the download URL is in the
 *   answer (the service asks clients not to build it themselves). An error answers `{ ok: false, message }`.
 * - v2 (older): `GET {base}/v2/projects/{project}/versions/{version}/builds` answers `{ builds: [{ build,
 *   channel: default|experimental, downloads: { application: { name, sha256 } } }] }`, oldest first; the
 *   jar is at `{base}/v2/projects/{p}/versions/{v}/builds/{build}/downloads/{name}`.
 *
 * Only the parsing is pure; `fetchLatestBuild` is the one function that talks to the network.
 */

/** Platforms the service publishes, and the project name it uses for each. */
export const DOWNLOADS_PROJECTS: Readonly<Record<string, string>> = {
  PAPER: "paper",
  FOLIA: "folia",
  VELOCITY: "velocity",
  WATERFALL: "waterfall",
};

export type DownloadsApiVersion = "v3" | "v2";

export interface DownloadsConfig {
  readonly enabled: boolean;
  readonly api: DownloadsApiVersion;
  readonly baseUrl: string;
  readonly userAgent: string;
  readonly timeoutMs: number;
  /** Acceptable channels, best first (v3 names; v2's `default` reads as STABLE, `experimental` as BETA). */
  readonly channels: readonly string[];
}

/** One build the service published: what the catalog records and daemons download and verify. */
export interface PublishedBuild {
  readonly build: number;
  readonly channel: string;
  readonly sha256: string;
  readonly url: string;
  readonly fileName: string;
}

/**
 * The service could not give a build. `permanent`: asking again will not help (no such version, no
 * build in an accepted channel, an answer without a checksum); otherwise it was unreachable, slow or
 * failing, and a later attempt may succeed.
 */
export class DownloadsApiError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = "DownloadsApiError";
  }
}

const SHA256 = /^[0-9a-f]{64}$/;
/** A builds list is some hundred KiB; far more than that is not the service answering. */
const MAX_ANSWER_CHARS = 16 * 1024 * 1024;
const V2_CHANNELS: Readonly<Record<string, string>> = { default: "STABLE", experimental: "BETA" };

/** PaperMC's own origin for each API shape, used when `baseUrl` is blank. */
export const DEFAULT_BASE_URLS: Readonly<Record<DownloadsApiVersion, string>> = {
  v3: "https://fill.papermc.io",
  v2: "https://api.papermc.io",
};

function baseOf(config: Pick<DownloadsConfig, "api" | "baseUrl">): string {
  return (config.baseUrl || DEFAULT_BASE_URLS[config.api]).replace(/\/+$/, "");
}

export function buildsUrl(config: DownloadsConfig, project: string, version: string): string {
  const base = baseOf(config);
  return `${base}/${config.api}/projects/${encodeURIComponent(project)}/versions/${encodeURIComponent(version)}/builds`;
}

/** The best build of a builds answer: the best accepted channel, then the highest build number. */
export function pickBuild(
  config: Pick<DownloadsConfig, "api" | "baseUrl" | "channels">,
  project: string,
  version: string,
  body: unknown,
): PublishedBuild {
  const what = `${project} ${version}`;
  const candidates =
    config.api === "v3" ? v3Candidates(body, what) : v2Candidates(config, project, version, body, what);
  const rank = (channel: string) => {
    const i = config.channels.findIndex((c) => c.toUpperCase() === channel);
    return i === -1 ? Number.POSITIVE_INFINITY : i;
  };
  const accepted = candidates.filter((c) => rank(c.channel) !== Number.POSITIVE_INFINITY);
  if (accepted.length === 0) {
    const seen = [...new Set(candidates.map((c) => c.channel))].join(", ") || "none";
    throw new DownloadsApiError(
      `PaperMC publishes no ${config.channels.join("/")} build of ${what} (channels seen: ${seen})`,
      true,
    );
  }
  accepted.sort((a, b) => rank(a.channel) - rank(b.channel) || b.build - a.build);
  return accepted[0]!;
}

function v3Candidates(body: unknown, what: string): PublishedBuild[] {
  if (isErrorBody(body)) throw new DownloadsApiError(`PaperMC: ${errorMessage(body, what)}`, true);
  if (!Array.isArray(body))
    throw new DownloadsApiError(`PaperMC answered an unexpected shape for ${what}`, true);
  const out: PublishedBuild[] = [];
  for (const raw of body) {
    const b = raw as {
      id?: unknown;
      channel?: unknown;
      downloads?: Record<string, { name?: unknown; url?: unknown; checksums?: { sha256?: unknown } }>;
    };
    const server = b.downloads?.["server:default"];
    const sha256 = typeof server?.checksums?.sha256 === "string" ? server.checksums.sha256.toLowerCase() : "";
    if (typeof b.id !== "number" || typeof b.channel !== "string" || !server) continue;
    if (!SHA256.test(sha256) || typeof server.url !== "string" || typeof server.name !== "string") continue;
    if (!/^https?:\/\//.test(server.url)) continue;
    out.push({
      build: b.id,
      channel: b.channel.toUpperCase(),
      sha256,
      url: server.url,
      fileName: server.name,
    });
  }
  return out;
}

function v2Candidates(
  config: Pick<DownloadsConfig, "api" | "baseUrl">,
  project: string,
  version: string,
  body: unknown,
  what: string,
): PublishedBuild[] {
  if (isErrorBody(body)) throw new DownloadsApiError(`PaperMC: ${errorMessage(body, what)}`, true);
  const builds = (body as { builds?: unknown } | null)?.builds;
  if (!Array.isArray(builds))
    throw new DownloadsApiError(`PaperMC answered an unexpected shape for ${what}`, true);
  const base = baseOf(config);
  const out: PublishedBuild[] = [];
  for (const raw of builds) {
    const b = raw as {
      build?: unknown;
      channel?: unknown;
      downloads?: { application?: { name?: unknown; sha256?: unknown } };
    };
    const app = b.downloads?.application;
    const sha256 = typeof app?.sha256 === "string" ? app.sha256.toLowerCase() : "";
    if (typeof b.build !== "number" || typeof app?.name !== "string" || !SHA256.test(sha256)) continue;
    const channel = V2_CHANNELS[String(b.channel)] ?? String(b.channel).toUpperCase();
    const url = `${base}/v2/projects/${encodeURIComponent(project)}/versions/${encodeURIComponent(version)}/builds/${b.build}/downloads/${encodeURIComponent(app.name)}`;
    out.push({ build: b.build, channel, sha256, url, fileName: app.name });
  }
  return out;
}

function isErrorBody(body: unknown): boolean {
  return (
    typeof body === "object" && body !== null && !Array.isArray(body) && ("ok" in body || "error" in body)
  );
}

function errorMessage(body: unknown, what: string): string {
  const b = body as { message?: unknown; error?: unknown };
  const text = typeof b.message === "string" ? b.message : typeof b.error === "string" ? b.error : "error";
  return `${text} (${what})`;
}

/** Asks the service for the newest acceptable build of `platform` `version`. */
export async function fetchLatestBuild(
  config: DownloadsConfig,
  platform: string,
  version: string,
  options: { fetch?: typeof fetch; userAgent: string },
): Promise<PublishedBuild> {
  const project = DOWNLOADS_PROJECTS[platform];
  if (!project) throw new DownloadsApiError(`PaperMC publishes no ${platform} builds`, true);
  const url = buildsUrl(config, project, version);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      headers: { "user-agent": options.userAgent, accept: "application/json" },
      signal: AbortSignal.timeout(config.timeoutMs),
      redirect: "follow",
    });
  } catch (err) {
    throw new DownloadsApiError(
      `PaperMC downloads API unreachable (${url}): ${(err as Error).message}`,
      false,
    );
  }
  // 404 is the service saying the project or version does not exist; 5xx and 429 may pass.
  const text = await response.text().catch(() => "");
  if (text.length > MAX_ANSWER_CHARS)
    throw new DownloadsApiError(
      `PaperMC's answer for ${project} ${version} is over ${MAX_ANSWER_CHARS} characters`,
      true,
    );
  let body: unknown;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // Most often a proxy's or load balancer's error page: worth asking again later.
    throw new DownloadsApiError(
      `PaperMC answered ${response.status} with a body that is not JSON (${url})`,
      false,
    );
  }
  if (
    response.status === 404 ||
    (response.status >= 400 && response.status < 500 && response.status !== 429)
  ) {
    const detail =
      body && typeof body === "object"
        ? errorMessage(body, `${project} ${version}`)
        : `${project} ${version}`;
    throw new DownloadsApiError(`PaperMC answered ${response.status}: ${detail}`, true);
  }
  if (!response.ok) throw new DownloadsApiError(`PaperMC answered ${response.status} (${url})`, false);
  return pickBuild(config, project, version, body);
}
