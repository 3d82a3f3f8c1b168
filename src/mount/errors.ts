/**
 * Errors raised while configuring mounts. They are thrown at setup time (a bad
 * path prefix, two mounts claiming the same prefix), never while serving: a
 * request that matches no mount simply falls through to the framework.
 */
import { SwitchboardError } from "../shared/errors.js";

/** The codes a {@link MountError} carries, with their messages. */
export const MOUNT_ERRORS = {
  ERR_MOUNT_PATH: "mount path must start with '/' and contain no '?', '#', '..' or '//'",
  ERR_MOUNT_CONFLICT: "two mounts claim overlapping path prefixes",
  ERR_MOUNT_ATTACHED: "the Socket.IO server is already attached to an HTTP server",
} as const;

export type MountErrorCode = keyof typeof MOUNT_ERRORS;

/** A mount could not be configured. */
export class MountError extends SwitchboardError {
  declare readonly code: MountErrorCode;

  constructor(code: MountErrorCode, detail?: string) {
    super(code, detail ? `${MOUNT_ERRORS[code]}: ${detail}` : MOUNT_ERRORS[code]);
  }
}
