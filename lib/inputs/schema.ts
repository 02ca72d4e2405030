/**
 * The bridge from valibot (the schema library every JSON input uses) to `ValidationError`, plus the schema pieces
 * several inputs share. Issue paths are prefixed with `at`, where the body sits inside a larger document, so a
 * fault inside an EventBridge event's `detail.metrics` reads `$.detail.metrics.counters[0].attempted`.
 */
import * as v from 'valibot';
import { jsonPath, ValidationError, type InputIssue } from './errors.ts';

/** Segments of a JSON path: object keys and array indexes, outermost first. */
export type PathSegments = ReadonlyArray<string | number>;

/** At most this many issues are reported per request; a body with 10 000 bad entries gets a readable reply. */
export const MAX_REPORTED_ISSUES = 100;

/** Keeps the first `max` issues and, when some were left out, says how many. */
export function capIssues(issues: InputIssue[], max: number = MAX_REPORTED_ISSUES): InputIssue[] {
  if (issues.length <= max) return issues;
  return [...issues.slice(0, max), { path: '$', message: `${issues.length - max} more issues not shown` }];
}

/** Converts valibot issues into input issues whose JSON paths start with `at`. */
export function toInputIssues(issues: ReadonlyArray<v.BaseIssue<unknown>>, at: PathSegments = []): InputIssue[] {
  return issues.map((issue) => {
    const segments: Array<string | number> = [...at];
    for (const item of issue.path ?? []) {
      if (typeof item.key === 'string' || typeof item.key === 'number') segments.push(item.key);
    }
    // valibot words a missing key as `Invalid key: Expected "x" but received undefined`; the path already names it.
    const missing = issue.kind === 'schema' && issue.input === undefined && (issue.path?.length ?? 0) > 0;
    return { path: jsonPath(segments), message: missing ? 'is required' : issue.message };
  });
}

export type CheckResult<T> = { success: true; output: T } | { success: false; issues: InputIssue[] };

/**
 * Inputs holding more JSON values than this are checked up to their first fault only. valibot keeps every issue
 * (about 1 KB each) before we can cap them: a 2 MB body of a million wrong entries took 800 MB, and a 20 KB gzip
 * of a five-million-member string set exhausted the heap.
 */
export const MAX_FULLY_CHECKED_VALUES = 10_000;

/** Whether `input` holds more than `max` JSON values, counted without recursion and stopping once over. */
function holdsMoreValuesThan(input: unknown, max: number): boolean {
  const stack: unknown[] = [input];
  let count = 1;
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      count += value.length;
      if (count > max) return true;
      for (const item of value) stack.push(item);
    } else {
      for (const key in value) {
        if (++count > max) return true;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * Validates `input` against `schema`, collecting every issue (valibot does not stop at the first); an input over
 * MAX_FULLY_CHECKED_VALUES values gets its first issue and a note saying that others may follow.
 */
export function checkInput<S extends v.GenericSchema>(schema: S, input: unknown, at: PathSegments = []): CheckResult<v.InferOutput<S>> {
  const large = holdsMoreValuesThan(input, MAX_FULLY_CHECKED_VALUES);
  const result = v.safeParse(schema, input, large ? { abortEarly: true } : undefined);
  if (result.success) return { success: true, output: result.output };
  const issues = toInputIssues(result.issues, at);
  if (large) {
    issues.push({ path: jsonPath(at), message: `checking stopped at the first fault: the document holds more than ${MAX_FULLY_CHECKED_VALUES} values` });
  }
  return { success: false, issues };
}

/** Validates `input` against `schema`; returns the parsed output or throws a `ValidationError` listing every issue. */
export function parseInput<S extends v.GenericSchema>(schema: S, input: unknown, at: PathSegments = []): v.InferOutput<S> {
  const result = checkInput(schema, input, at);
  if (!result.success) throw new ValidationError(capIssues(result.issues));
  return result.output;
}

/**
 * An object schema that also refuses arrays: valibot's `object()` accepts `[]` (it is an object to JavaScript),
 * which would turn a body of `[]` into an empty, valid input. Unknown keys are dropped from the output, never
 * an error, so newer senders adding keys keep working.
 */
export function jsonObject<const E extends v.ObjectEntries>(entries: E, message = 'expected a JSON object') {
  return v.pipe(
    v.custom<Record<string, unknown>>((input) => typeof input === 'object' && input !== null && !Array.isArray(input), message),
    v.object(entries),
  );
}

/**
 * A JSON object whose every value passes `value` (labels, contexts), the output keeping every key. valibot's
 * `record()` takes an array (`"labels": ["prod"]` became label `_0="prod"`) and silently leaves out the keys
 * `constructor`, `prototype` and `__proto__`, the first two valid label names.
 */
export function jsonRecord<S extends v.GenericSchema<unknown, string>>(value: S, message = 'expected a JSON object of strings') {
  return v.pipe(
    v.custom<Record<string, unknown>>((input) => typeof input === 'object' && input !== null && !Array.isArray(input), message),
    v.rawTransform<Record<string, unknown>, Record<string, string>>(({ dataset, config, addIssue, NEVER }) => {
      const input = dataset.value;
      const entries: Array<[string, string]> = [];
      for (const [key, item] of Object.entries(input)) {
        const result = v.safeParse(value, item, { abortEarly: config.abortEarly });
        if (result.success) {
          entries.push([key, result.output]);
          continue;
        }
        for (const issue of result.issues) {
          addIssue({ message: issue.message, path: [{ type: 'object', origin: 'value', input, key, value: item }, ...(issue.path ?? [])] });
        }
        if (config.abortEarly) break;
      }
      // fromEntries defines own properties, so a `__proto__` key stays a key instead of setting the prototype.
      return entries.length === Object.keys(input).length ? Object.fromEntries(entries) : NEVER;
    }),
  );
}

/**
 * A JSON number that is finite. JSON cannot write NaN, but `1e400` parses to Infinity, which no receiver
 * stores usefully.
 */
export const finiteNumber = v.config(
  v.pipe(
    v.number(),
    v.finite((issue) => `must be a finite number, got ${issue.received}`),
  ),
  { abortPipeEarly: true },
);

/** A string with at least one character (metric names, URNs). */
export const nonEmptyString = v.pipe(v.string(), v.minLength(1, 'must not be empty'));
