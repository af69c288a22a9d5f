/** One problem found in a config file: where it is, what was expected. */
export interface ConfigIssue {
  /** dotted key path, e.g. `http.port`; empty for the document itself */
  path: string;
  message: string;
  line?: number;
  /** set when the value came from an environment variable rather than the file */
  envVar?: string;
}

export class ConfigError extends Error {
  readonly file: string;
  readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[]) {
    super(issues.map((i) => formatIssue(file, i)).join("\n"));
    this.name = "ConfigError";
    this.file = file;
    this.issues = issues;
  }
}

export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.envVar ? `env ${issue.envVar}` : issue.line ? `${file}:${issue.line}` : file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}
