/** The REST shapes the deployment E2Es read: an instance of `GET /services`, a deployment record. */

export interface InstanceRow {
  id: string;
  state: string;
  port: number;
  deploymentRevision: number;
  playerCount: number;
  stateChangedAt: string | null;
}

export interface WaveRow {
  index: number;
  startedAt: string | null;
  verdict: string;
  replaced: Array<{ old: string; new: string | null }>;
}

export interface DeploymentRow {
  state: string;
  reason: string;
  routing?: string;
  updatedInstances: number;
  waves: WaveRow[];
}
