/**
 * Metric and label name rules from the Prometheus data model
 * (https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels).
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** Label names beginning with `__` are reserved for Prometheus' internal use. */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name) && !name.startsWith('__');
}

/** Replaces every character outside `[a-zA-Z0-9_:]` with `_`, and prefixes `_` when the first is a digit. */
export function sanitizeMetricName(name: string): string {
  if (METRIC_NAME.test(name)) return name;
  let out = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = '_' + out;
  return out;
}

/** As `sanitizeMetricName`, without `:` and with the reserved `__` prefix folded to one `_`. */
export function sanitizeLabelName(name: string): string {
  let out = LABEL_NAME.test(name) ? name : name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (out === '' || /^[0-9]/.test(out)) out = '_' + out;
  if (out.startsWith('__')) out = out.replace(/^_+/, '_');
  return out;
}
