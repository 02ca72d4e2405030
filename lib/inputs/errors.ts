/**
 * Errors an input raises when a request cannot be accepted. Each carries the HTTP status the ingest endpoint
 * answers with and the list of faults, each naming the JSON path (`$.counters[3].attempted`) it concerns.
 */

export interface InputIssue {
  /** JSONPath-style location of the fault in the body (`$` is the whole body; `$path` for the URL path). */
  path: string;
  message: string;
}

export class InputError extends Error {
  override name = 'InputError';
  readonly status: number;
  readonly issues: InputIssue[];

  constructor(status: number, issues: InputIssue[], options?: { cause?: unknown }) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '), options);
    this.status = status;
    this.issues = issues;
  }
}

/** The body is well-formed enough to read but breaks the schema or a rule (400). */
export class ValidationError extends InputError {
  override name = 'ValidationError';
  constructor(issues: InputIssue[], options?: { cause?: unknown }) {
    super(400, issues, options);
  }
}

/** The body (compressed or decompressed) is over the configured size cap (413). */
export class PayloadTooLargeError extends InputError {
  override name = 'PayloadTooLargeError';
  constructor(message: string) {
    super(413, [{ path: '$', message }]);
  }
}

/** No input format reads this `Content-Type` / `Content-Encoding` (415). */
export class UnsupportedMediaTypeError extends InputError {
  override name = 'UnsupportedMediaTypeError';
  constructor(message: string) {
    super(415, [{ path: '$', message }]);
  }
}

/** Builds a JSON path from segments: `jsonPath(['counters', 3, 'attempted'])` → `$.counters[3].attempted`. */
export function jsonPath(segments: ReadonlyArray<string | number>): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}
