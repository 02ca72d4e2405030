/**
 * The webhook route `POST /metrics/job/{job}{/labelName/labelValue}*`: the grouping key in the path, as the
 * Pushgateway defines it (https://github.com/prometheus/pushgateway#url). A label name ending in `@base64` carries
 * a base64url value (`=` alone is the empty value), for values containing `/`.
 */
import { isValidLabelName } from '../model/names.ts';
import type { Labels } from '../model/series.ts';
import { ValidationError, type InputIssue } from '../inputs/errors.ts';
import { RouteError } from './errors.ts';

const ROUTE = /\/metrics\/(job(?:@base64)?\/.*)$/;

function decodeBase64Url(value: string): string | undefined {
  if (value === '=' || value === '') return '';
  // RFC 4648 §5 alphabet; padding optional as the Pushgateway accepts both.
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value.replace(/=+$/, ''), 'base64url');
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return text.decode(bytes);
  } catch {
    return undefined;
  }
}

function percentDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Reads the grouping key. Anything before `/metrics/job` (an API Gateway stage, a base path) is ignored.
 * Throws RouteError (404) for another route and ValidationError (400, paths `$path[i]`, i counting the segments
 * after `/metrics/`) for a bad key.
 */
export function parseGroupingKey(path: string): Labels {
  const match = ROUTE.exec(path);
  if (!match) throw new RouteError(404, 'no such route: the webhook route is POST /metrics/job/<job>{/<label>/<value>}*');
  const segments = match[1]!.split('/');
  if (segments.length > 2 && segments[segments.length - 1] === '') segments.pop();
  const issues: InputIssue[] = [];
  const labels: Labels = {};
  for (let i = 0; i < segments.length; i += 2) {
    const where = `$path[${i}]`;
    const nameSegment = percentDecode(segments[i]!);
    if (nameSegment === undefined) {
      issues.push({ path: where, message: 'label name segment is not valid percent-encoding' });
      continue;
    }
    const base64 = nameSegment.endsWith('@base64');
    const name = base64 ? nameSegment.slice(0, -'@base64'.length) : nameSegment;
    const rawValue = segments[i + 1];
    if (rawValue === undefined) {
      issues.push({ path: where, message: `label "${name}" has no value: the path must alternate /<label>/<value>` });
      continue;
    }
    if (!isValidLabelName(name)) {
      issues.push({ path: where, message: `"${name}" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)` });
      continue;
    }
    // Own keys only: `in` would also see Object.prototype, refusing valid names such as `constructor`.
    if (Object.hasOwn(labels, name)) {
      issues.push({ path: where, message: `label "${name}" appears twice in the path` });
      continue;
    }
    const value = base64 ? decodeBase64Url(rawValue) : percentDecode(rawValue);
    if (value === undefined) {
      issues.push({ path: `$path[${i + 1}]`, message: base64 ? `value of "${name}@base64" is not base64url` : `value of "${name}" is not valid percent-encoding` });
      continue;
    }
    if (name === 'job' && value === '') {
      issues.push({ path: `$path[${i + 1}]`, message: 'the job name must not be empty: POST /metrics/job/<job>' });
      continue;
    }
    // An empty value is kept in the grouping key (the Pushgateway needs it); remote-write drops empty labels.
    labels[name] = value;
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return labels;
}
