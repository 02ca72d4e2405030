/** Options that change how inputs become series (DESIGN §3 gives the defaults). */
export interface ConversionOptions {
  /** Metric name prefix for Beam metrics. */
  prefix: string;
  /**
   * `preferred`: committed when present, attempted otherwise (one series).
   * `both`: both, told apart by a `result="committed"|"attempted"` label.
   */
  results: 'preferred' | 'both';
  /** At most this many `_info` series per string set; the rest are dropped with a warning. */
  stringSetCap: number;
  /** A Beam gauge keeps its own timestamp when within this many ms before the ingest time… */
  gaugeMaxAgeMs: number;
  /** …and no more than this many ms after it; otherwise the ingest time is used. */
  gaugeMaxFutureMs: number;
}

export const DEFAULT_CONVERSION_OPTIONS: Readonly<ConversionOptions> = Object.freeze({
  prefix: 'beam_',
  results: 'preferred',
  stringSetCap: 100,
  // Prometheus rejects samples older than its head block (~1-2 h) as out of bounds; 10 min keeps us clear of it.
  gaugeMaxAgeMs: 10 * 60_000,
  // Prometheus rejects samples > 10 min in the future (DESIGN §4); a minute of clock skew is plausible, more is not.
  gaugeMaxFutureMs: 60_000,
});

/** What an input parser gets besides the body. */
export interface InputContext {
  /** The ingest timestamp (ms), stamped once per request. */
  nowMs: number;
  options: ConversionOptions;
}
