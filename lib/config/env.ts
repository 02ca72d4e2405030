/**
 * Readers for environment variables. Each throws a ConfigError naming the variable and what is wrong with it, so a
 * bad deployment fails its first invocation with a message an operator can act on.
 */
import { isValidLabelName } from '../model/names.ts';
import type { Labels } from '../model/series.ts';
import { ConfigError } from './errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** The value, trimmed, or undefined when unset or blank. */
export function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  return value === '' ? undefined : value;
}

export function required(env: Env, name: string, why: string): string {
  const value = optional(env, name);
  if (value === undefined) throw new ConfigError(name, `is required (${why})`);
  return value;
}

export function url(env: Env, name: string): URL | undefined {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `"${redactUrl(value)}" is not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `must be an http:// or https:// URL, got ${parsed.protocol}`);
  }
  return parsed;
}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `"${value}" is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `${n} is outside ${min}..${max}`);
  return n;
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw new ConfigError(name, `"${value}" is not a boolean (use true or false)`);
}

export function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigError(name, `"${value}" is not one of ${choices.join(', ')}`);
  }
  return value as T;
}

/** `k=v,k2=v2` → labels. Names must be valid Prometheus label names; values must not be empty. */
export function labelList(env: Env, name: string): Labels {
  const value = optional(env, name);
  const labels: Labels = {};
  if (value === undefined) return labels;
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(name, `"${pair.trim()}" is not of the form name=value`);
    const key = pair.slice(0, eq).trim();
    const val = pair.slice(eq + 1).trim();
    if (!isValidLabelName(key)) throw new ConfigError(name, `"${key}" is not a valid label name`);
    if (val === '') throw new ConfigError(name, `label "${key}" has an empty value (Prometheus drops empty labels)`);
    if (Object.hasOwn(labels, key)) throw new ConfigError(name, `label "${key}" is given twice`);
    labels[key] = val;
  }
  return labels;
}

/** Strips credentials and query from a URL before it goes into a message or a log line. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    if (u.search) u.search = '?…';
    return u.toString();
  } catch {
    return value.length > 40 ? value.slice(0, 40) + '…' : value;
  }
}
