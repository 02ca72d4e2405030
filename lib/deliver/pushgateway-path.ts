/**
 * The Pushgateway URL of a group: `/metrics/job/<job>{/<label>/<value>}` (https://github.com/prometheus/pushgateway#url).
 *
 * A value goes base64url-encoded under `<label>@base64` when the plain form cannot survive the trip:
 * - it contains `/`, which would split the path even percent-encoded (the Pushgateway answers 400 for `%2F`);
 * - it is empty, which would leave `//` or a trailing `/` that path cleaning removes (README: "a single `=` is
 *   required to encode an empty label value");
 * - it is `.` or `..`, which URL parsing (ours and the server's) resolves away as a dot segment, `%2E` included.
 * Any other value is percent-encoded, which the Pushgateway decodes (checked against 1.5.1: space, `+`, `%`, `?`,
 * `#`, `"`, `\`, `(`, non-ASCII).
 */
import type { Labels } from '../model/series.ts';

/** The grouping key has no usable `job`: the Pushgateway has no group without one. */
export class GroupingKeyError extends Error {
  override name = 'GroupingKeyError';
  readonly group: Labels;
  constructor(group: Labels, reason: string) {
    super(`grouping key ${JSON.stringify(group)}: ${reason}`);
    this.group = group;
  }
}

function needsBase64(value: string): boolean {
  return value === '' || value === '.' || value === '..' || value.includes('/');
}

/** One `/<name>/<value>` pair of the path. */
export function groupingKeySegment(name: string, value: string): string {
  if (!needsBase64(value)) {
    try {
      return `/${name}/${encodeURIComponent(value)}`;
    } catch {
      // A lone UTF-16 surrogate cannot be percent-encoded; base64 of its UTF-8 form (U+FFFD) still can.
    }
  }
  return `/${name}@base64/${value === '' ? '=' : Buffer.from(value, 'utf8').toString('base64url')}`;
}

/**
 * The path of a group: `job` first, as the Pushgateway's route requires, then the other labels by name so that one
 * group always gets one path. Throws GroupingKeyError when `job` is missing or empty.
 */
export function groupingKeyPath(group: Labels): string {
  const job = group.job;
  if (job === undefined) throw new GroupingKeyError(group, 'has no job label; the Pushgateway needs /metrics/job/<job>');
  if (job === '') throw new GroupingKeyError(group, 'has an empty job label; the Pushgateway refuses an empty job name');
  let path = '/metrics' + groupingKeySegment('job', job);
  for (const name of Object.keys(group).sort()) {
    if (name !== 'job') path += groupingKeySegment(name, group[name]!);
  }
  return path;
}

/** The group's URL under a Pushgateway base URL (which may carry a route prefix; no trailing slash). */
export function groupUrl(baseUrl: string, group: Labels): string {
  return baseUrl.replace(/\/+$/, '') + groupingKeyPath(group);
}
