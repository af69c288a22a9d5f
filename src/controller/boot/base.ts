import type { Coordination } from "../../coord/port.ts";
import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../log/logger.ts";
import type { DurableStore } from "../../store/port.ts";

/**
 * What every wiring under boot/ is built on: the state opened before construction, who this
 * controller is, its log and its clock. Passed as its own argument beside each wiring's few other
 * dependencies, never spread into them.
 */
export interface BootBase {
  store: DurableStore;
  coord: Coordination;
  controllerId: string;
  log: Logger;
  clock: Clock;
}
