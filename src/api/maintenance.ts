import { type Static, Type as T } from "@sinclair/typebox";

/** Global maintenance (`GET`/`PUT /maintenance`). */
export const Maintenance = T.Object({ enabled: T.Boolean(), message: T.String() });
export type Maintenance = Static<typeof Maintenance>;

/** `PUT /maintenance`: the message is kept when omitted. */
export const MaintenanceUpdate = T.Object(
  { enabled: T.Boolean(), message: T.Optional(T.String({ maxLength: 512 })) },
  { additionalProperties: false },
);
export type MaintenanceUpdate = Static<typeof MaintenanceUpdate>;
