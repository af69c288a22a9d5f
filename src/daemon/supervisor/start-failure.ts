/** Start preparation stages (proto `StartStage`), in the order a start passes them. */
export type StartStage =
  | "VALIDATION"
  | "TEMPLATE_APPLY"
  | "RUNTIME_PROVISION"
  | "EXTENSION_PROVISION"
  | "BOOTSTRAP_WARMUP"
  | "VARIABLE_SUBSTITUTION"
  | "CONFIG_PATCH"
  | "PROCESS_START";

/** Whether retrying the same start can succeed (proto `FailureDisposition`). */
export type FailureDisposition = "PERMANENT" | "TRANSIENT";

/** A start that was refused or failed before the process ran; maps onto StartInstanceAck. */
export class StartFailure extends Error {
  readonly stage: StartStage;
  readonly errorCode: string;
  readonly disposition: FailureDisposition;
  readonly retryAfterSeconds: number;

  constructor(
    stage: StartStage,
    errorCode: string,
    message: string,
    options: { disposition: FailureDisposition; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = "StartFailure";
    this.stage = stage;
    this.errorCode = errorCode;
    this.disposition = options.disposition;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 0;
  }
}
