/**
 * The Pushgateway destination: one request per group and snapshot, in the text exposition format.
 *
 * A snapshot is what one ingest request carried: the envelopes sharing one `id` (`parts` > 1 when ingest split
 * it). Per group (the envelope's grouping key), the batch's snapshots are replayed in ingest order, keeping only
 * what a replay would leave standing:
 * - a metrics snapshot with all its parts in the batch replaces the group: `PUT`, one body of all parts;
 * - a metrics snapshot with parts missing (split across SQS batches) is merged in with `POST`, which replaces
 *   only the metric names it carries: a `PUT` of some parts would delete the metrics of the others;
 * - a job report (EventBridge job event, completion report) is merged in with `POST` as well: it describes the
 *   job, not the whole group, and a `PUT` would wipe the Beam metrics pushed under the same grouping key just
 *   as the job ends, when they matter most;
 * - with `deleteOnJobEnd`, a job-end envelope deletes the group instead (`DELETE`, see docs/pushgateway.md:
 *   pushing the final snapshot first would be replaced before Prometheus could scrape it);
 * - everything older than the newest `PUT` or `DELETE` is superseded: acknowledged without a request, counted
 *   in `stats.samplesSuperseded`.
 * Once a request of a group fails retryably or fatally, the group's later requests are not sent but failed with
 * it, so that SQS redelivers them in order behind it.
 *
 * Timestamps are not sent: the Pushgateway refuses them (400 "pushed metrics must not have timestamps") and
 * stamps each push with its arrival. Pushgateway delivery is therefore last-write-wins: a snapshot that arrives
 * late overwrites a newer one. Deliver functions running concurrently on a standard queue can do just that, so
 * for Pushgateway delivery use a FIFO queue (a `.fifo` QUEUE_URL): ingest then sets `MessageGroupId` to the
 * grouping key, and SQS hands one group's messages to one consumer at a time, in order.
 *
 * Sample labels are the point's labels over the static labels, without the grouping key's names: the
 * Pushgateway overrides body labels with path labels anyway (DESIGN §4), and sending them could only disagree.
 */
import type { Dispatcher } from 'undici';
import { encodeTextExposition, TEXT_EXPOSITION_CONTENT_TYPE, type ExpositionFamily, type ExpositionSample } from '../encoders/text-exposition.ts';
import { envelopePoints, fromEnvelopeValue, pointCount } from '../envelope/envelope.ts';
import { familyOf } from '../model/families.ts';
import type { Labels, MetricFamily } from '../model/series.ts';
import type { BackoffOptions } from '../transport/backoff.ts';
import { attemptOnce, createDispatcher } from '../transport/http.ts';
import type { Outcome } from '../transport/outcome.ts';
import { withRetry, type RetryClock } from '../transport/retry.ts';
import { mergeEnvelopes } from './merge.ts';
import { GroupingKeyError, groupUrl } from './pushgateway-path.ts';
import type { DecodedRecord } from './records.ts';
import { countReason, emptyStats, type Sink, type SinkReport, type SinkStats } from './sink.ts';

export interface PushgatewayOptions {
  /** Base URL (`http://host:9091`, possibly with a route prefix), no trailing slash. */
  url: string;
  /** Extra headers (auth); never protocol headers. */
  headers: Readonly<Record<string, string>>;
  /** Delete a group when a job-end envelope arrives for it, instead of pushing that envelope. */
  deleteOnJobEnd: boolean;
  timeoutMs: number;
  backoff: BackoffOptions;
  /** Groups in flight at once; one group's requests are always sequential. */
  concurrency: number;
  userAgent: string;
}

/** Sources whose envelopes describe the job, not the whole group: merged in rather than replacing it. */
const JOB_REPORT_SOURCES: ReadonlySet<string> = new Set(['eventbridge', 'completion']);

/** The parts of one ingest request found in the batch. */
export interface Snapshot {
  id: string;
  source: string;
  receivedAt: number;
  /** How many parts the request was split into. */
  parts: number;
  /** One record per part present, in part order (a redelivered duplicate is left out here). */
  present: DecodedRecord[];
  /** Every record of the snapshot, duplicates included: they share its fate. */
  records: DecodedRecord[];
  jobEnded: boolean;
  /** Points in `present`. */
  samples: number;
}

export type PushMethod = 'PUT' | 'POST' | 'DELETE';

export interface PushOperation {
  method: PushMethod;
  snapshot: Snapshot;
}

export interface GroupPlan {
  group: Labels;
  /** In ingest order. */
  operations: PushOperation[];
  /** Older than the group's last `PUT` or `DELETE`: nothing to send. */
  superseded: Snapshot[];
}

function groupId(group: Labels): string {
  return Object.keys(group)
    .sort()
    .map((k) => `${k}\u0000${group[k]}`)
    .join('\u0000');
}

function methodOf(s: Snapshot, deleteOnJobEnd: boolean): PushMethod {
  if (deleteOnJobEnd && s.jobEnded) return 'DELETE';
  return s.present.length === s.parts && !JOB_REPORT_SOURCES.has(s.source) ? 'PUT' : 'POST';
}

/**
 * Groups a batch's records into snapshots per grouping key and decides the requests each group needs, in order.
 * Pure: the unit tests drive the selection through it.
 */
export function planPushes(records: readonly DecodedRecord[], deleteOnJobEnd: boolean): GroupPlan[] {
  const groups = new Map<string, { group: Labels; snapshots: Map<string, Snapshot>; first: Map<string, number> }>();
  for (const r of records) {
    const e = r.envelope;
    const key = groupId(e.group);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { group: e.group, snapshots: new Map(), first: new Map() }));
    let s = g.snapshots.get(e.id);
    if (!s) {
      s = { id: e.id, source: e.source, receivedAt: e.receivedAt, parts: e.parts, present: [], records: [], jobEnded: false, samples: 0 };
      g.snapshots.set(e.id, s);
      g.first.set(e.id, r.index);
    }
    s.records.push(r);
    if (e.jobEnded) s.jobEnded = true;
    if (!s.present.some((p) => p.envelope.part === e.part)) {
      s.present.push(r);
      s.samples += pointCount(e);
    }
  }
  const plans: GroupPlan[] = [];
  for (const { group, snapshots, first } of groups.values()) {
    // Ingest order; on a tie the record earlier in the batch (a FIFO queue delivers in send order).
    const ordered = [...snapshots.values()].sort((a, b) => a.receivedAt - b.receivedAt || first.get(a.id)! - first.get(b.id)!);
    const operations: PushOperation[] = ordered.map((snapshot) => {
      snapshot.present.sort((a, b) => a.envelope.part - b.envelope.part);
      return { method: methodOf(snapshot, deleteOnJobEnd), snapshot };
    });
    let lastReplace = -1;
    operations.forEach((o, i) => {
      if (o.method !== 'POST') lastReplace = i;
    });
    plans.push({
      group,
      operations: operations.slice(Math.max(0, lastReplace)),
      superseded: operations.slice(0, Math.max(0, lastReplace)).map((o) => o.snapshot),
    });
  }
  return plans;
}

/**
 * HELP for a family its source described without one: the text format does not require HELP, but promtool's
 * lint does, and one fixed text keeps HELP stable per family across pushes.
 */
export const NO_HELP = 'No HELP text was given for this metric.';

function sampleKey(name: string, labels: Labels): string {
  let key = name;
  for (const n of Object.keys(labels).sort()) key += '\u0000' + n + '\u0000' + labels[n];
  return key;
}

/**
 * The samples of a snapshot grouped by family, with their Pushgateway labels: point labels over static labels,
 * without the grouping key's names and without empty values. Every family gets a HELP text (NO_HELP at worst). A repeated series keeps its last value; how many
 * were dropped so is returned as `duplicates`.
 */
export function snapshotFamilies(snapshot: Snapshot, group: Labels): { families: ExpositionFamily[]; duplicates: number } {
  const known = new Map<string, MetricFamily>();
  for (const r of snapshot.present) {
    for (const f of r.envelope.families) if (!known.has(f.name)) known.set(f.name, f.help ? f : { ...f, help: NO_HELP });
  }
  const byFamily = new Map<string, { family: ExpositionFamily; index: Map<string, number> }>();
  let duplicates = 0;
  for (const r of snapshot.present) {
    const statics = r.envelope.labels;
    for (const p of envelopePoints(r.envelope)) {
      const labels: Labels = {};
      for (const n in statics) if (!Object.hasOwn(group, n) && !Object.hasOwn(p.labels, n) && statics[n] !== '') labels[n] = statics[n]!;
      for (const n in p.labels) if (!Object.hasOwn(group, n) && p.labels[n] !== '' && !n.startsWith('__')) labels[n] = p.labels[n]!;
      const family = familyOf(p.name, known) ?? { name: p.name, type: 'unknown' as const, help: NO_HELP };
      let entry = byFamily.get(family.name);
      if (!entry) byFamily.set(family.name, (entry = { family: { family, samples: [] }, index: new Map() }));
      const sample: ExpositionSample = { name: p.name, labels, value: fromEnvelopeValue(p.value) };
      const key = sampleKey(p.name, labels);
      const at = entry.index.get(key);
      if (at === undefined) {
        entry.index.set(key, entry.family.samples.length);
        entry.family.samples.push(sample);
      } else {
        // Two points that differ only in labels the grouping key overrides: the Pushgateway would refuse both.
        entry.family.samples[at] = sample;
        duplicates++;
      }
    }
  }
  return { families: [...byFamily.values()].map((e) => e.family), duplicates };
}

/** The text exposition body of a snapshot (`PUT` / `POST`), and how many duplicate series it left out. */
export function snapshotBody(snapshot: Snapshot, group: Labels): { body: Uint8Array; duplicates: number } {
  const { families, duplicates } = snapshotFamilies(snapshot, group);
  return { body: encodeTextExposition(families), duplicates };
}

const DEADLINE: Outcome = { kind: 'retryable', reason: 'deadline', detail: 'no time left before the invocation deadline' };

export class PushgatewaySink implements Sink {
  readonly name: string;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly options: PushgatewayOptions, private readonly clock: RetryClock, dispatcher?: Dispatcher) {
    const u = new URL(options.url);
    this.name = `pushgateway ${u.host}${u.pathname.replace(/\/+$/, '')}`;
    this.dispatcher = dispatcher ?? createDispatcher();
  }

  async deliver(records: readonly DecodedRecord[], deadlineMs: number): Promise<SinkReport> {
    const report: SinkReport = { failed: new Map(), rejected: [], stats: emptyStats() };
    const { stats } = report;
    const plans = planPushes(records, this.options.deleteOnJobEnd);
    let fatal: Outcome | undefined;

    const superseded = (samples: number, reason: string): void => {
      stats.samplesSuperseded += samples;
      stats.reasons[`superseded:${reason}`] = (stats.reasons[`superseded:${reason}`] ?? 0) + samples;
    };
    const fail = (s: Snapshot, outcome: Outcome): void => {
      for (const r of s.records) if (!report.failed.has(r.index)) report.failed.set(r.index, outcome);
      stats.samplesFailed += s.samples;
      countReason(stats, outcome, s.samples);
    };
    const reject = (s: Snapshot, outcome: Outcome): void => {
      stats.samplesRejected += s.samples;
      countReason(stats, outcome, s.samples);
      // The DLQ gets the snapshot as remote-write would see it: grouping key included, timestamps explicit.
      report.rejected.push({ series: mergeEnvelopes(s.records).series, outcome });
    };

    const pushGroup = async (plan: GroupPlan): Promise<void> => {
      for (const s of plan.superseded) superseded(s.samples, 'older-snapshot-in-batch');
      let url: string;
      try {
        url = groupUrl(this.options.url, plan.group);
      } catch (error) {
        if (!(error instanceof GroupingKeyError)) throw error;
        const outcome: Outcome = { kind: 'permanent', reason: 'no-job-in-grouping-key', detail: error.message };
        for (const o of plan.operations) reject(o.snapshot, outcome);
        return;
      }
      let blocked: Outcome | undefined;
      for (const { method, snapshot } of plan.operations) {
        // Behind a failed request of the same group: keep the group's order for the redelivery.
        // Past the deadline a request could outlive the Lambda, which would fail the whole batch: keep the data in SQS.
        const stop = fatal ?? blocked ?? (this.clock.now() >= deadlineMs ? DEADLINE : undefined);
        if (stop) {
          fail(snapshot, stop);
          blocked = stop;
          continue;
        }
        let body: Uint8Array | undefined;
        let duplicates = 0;
        if (method !== 'DELETE') ({ body, duplicates } = snapshotBody(snapshot, plan.group));
        const outcome = await this.send(method, url, body, snapshot.samples, deadlineMs, stats);
        switch (outcome.kind) {
          case 'superseded':
            superseded(snapshot.samples, outcome.reason);
            break;
          case 'success':
            if (method === 'DELETE') {
              superseded(snapshot.samples, 'group-deleted-on-job-end');
            } else {
              stats.samplesWritten += snapshot.samples - duplicates;
              if (duplicates > 0) superseded(duplicates, 'duplicate-series-in-snapshot');
            }
            break;
          case 'permanent':
            reject(snapshot, outcome);
            break;
          case 'fatal':
          case 'unsupported-protocol':
            // Every further request would fail the same way: keep the data in SQS until an operator acts.
            fatal = outcome;
            fail(snapshot, outcome);
            break;
          case 'retryable':
            blocked = outcome;
            fail(snapshot, outcome);
            break;
        }
      }
    };

    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plans.length) await pushGroup(plans[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, plans.length) }, worker));
    return report;
  }

  private async send(method: PushMethod, url: string, body: Uint8Array | undefined, samples: number, deadlineMs: number, stats: SinkStats): Promise<Outcome> {
    const headers: Record<string, string> = { ...this.options.headers, 'User-Agent': this.options.userAgent };
    if (body !== undefined) headers['Content-Type'] = TEXT_EXPOSITION_CONTENT_TYPE;
    const { outcome, attempts } = await withRetry(
      async () => {
        const started = this.clock.now();
        const o = await attemptOnce(
          this.dispatcher,
          // An attempt never runs past the deadline, whatever PUSHGATEWAY_TIMEOUT_MS says.
          { url, method, headers, ...(body !== undefined ? { body } : {}), timeoutMs: Math.max(1, Math.min(this.options.timeoutMs, deadlineMs - started)) },
          // The Pushgateway has no remote-write version header to expect; a 429 from a proxy in front is worth a retry.
          { retryOn429: true, expectWrittenHeader: false },
        );
        stats.requestMs.push(this.clock.now() - started);
        return o;
      },
      { backoff: this.options.backoff, deadlineMs, attemptTimeoutMs: this.options.timeoutMs },
      this.clock,
    );
    stats.requests += attempts;
    stats.retries += attempts - 1;
    stats.samplesRetried += (attempts - 1) * samples;
    return outcome;
  }
}
