/** Errors of the metrics module: bad options, a registry that cannot take our metrics. */
import { SwitchboardError } from "../../shared/errors.js";

export class MetricsError extends SwitchboardError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
