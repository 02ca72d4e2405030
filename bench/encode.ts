/**
 * Remote-write 1.0 encode + snappy, against npm `prometheus-remote-write` (protobufjs objects, `verify()`, snappyjs)
 * and against the floor: snappyjs compressing our already-encoded protobuf bytes, which no encoder that ends in
 * snappyjs can beat. Text exposition against prom-client's registry.
 */
import { pushTimeseries } from 'prometheus-remote-write';
import { Counter, Gauge, Registry } from 'prom-client';
import snappy from 'snappyjs';
import { compressWriteRequestV1, encodeWriteRequestV1 } from '../lib/encoders/remote-write-v1.ts';
import { snappyUncompress } from '../lib/encoders/snappy.ts';
import { encodeTextExposition, type ExpositionFamily } from '../lib/encoders/text-exposition.ts';
import { timeInterleaved, type TimingOptions } from './measure.ts';
import { fixed, perSecond, times, type Row } from './report.ts';
import { expositionFamilies, SERIES_PER_PUSH, toReferenceTimeseries, writeRequest } from './workload.ts';

export interface EncodeSize {
  jobs: number;
  /** Samples per series (pushes 5 s apart in one deliver batch). */
  pushes: number;
  /** Fewer rounds for the big size: the reference takes about a second per call there. */
  rounds?: number;
}

/** 10k and 100k samples: 25 and 250 jobs × 100 series × 4 samples. */
export const ENCODE_SIZES: readonly EncodeSize[] = [
  { jobs: 25, pushes: 4 },
  { jobs: 250, pushes: 4, rounds: 5 },
];

const START_MS = Date.UTC(2026, 10, 20, 10, 0, 0);

/** A fetch that keeps the body instead of sending it: the reference's encode path ends where the network begins. */
function capturingFetch(): { fetch: (url: string, init?: { body: ArrayBufferLike }) => Promise<{ status: number; statusText: string; text: () => Promise<string> }>; last: () => Uint8Array | undefined } {
  let body: Uint8Array | undefined;
  return {
    fetch: async (_url, init) => {
      body = init?.body as unknown as Uint8Array;
      return { status: 204, statusText: 'No Content', text: async () => '' };
    },
    last: () => body,
  };
}

/** Two rows for one size: our samples/s against the reference's, and our time against the snappy floor. */
export async function remoteWriteRows(size: EncodeSize, timing: TimingOptions): Promise<Row[]> {
  if (size.rounds !== undefined) timing = { ...timing, rounds: Math.min(timing.rounds, size.rounds), warmupRounds: Math.min(timing.warmupRounds, 1) };
  const req = writeRequest(size.jobs, size.pushes, START_MS);
  const samples = size.jobs * SERIES_PER_PUSH * size.pushes;
  const reference = toReferenceTimeseries(req);
  const protobuf = encodeWriteRequestV1(req).slice();
  const capture = capturingFetch();
  const referenceOptions = { url: 'http://127.0.0.1:9/api/v1/write', fetch: capture.fetch };

  // The bytes must be what they claim before their speed means anything.
  const ours = compressWriteRequestV1(req);
  if (Buffer.compare(snappyUncompress(ours), protobuf) !== 0) throw new Error('bench: our snappy body does not decompress to our protobuf bytes');
  await pushTimeseries(reference, referenceOptions);
  const referenceBody = capture.last();
  if (!referenceBody || snappy.uncompress(referenceBody).length === 0) throw new Error('bench: the reference produced no body');

  const t = await timeInterleaved(
    {
      ours: () => compressWriteRequestV1(req),
      reference: () => pushTimeseries(reference, referenceOptions),
      floor: () => snappy.compress(protobuf),
    },
    timing,
  );
  const label = `${samples.toLocaleString('en-US')} samples (${(size.jobs * SERIES_PER_PUSH).toLocaleString('en-US')} series × ${size.pushes}, 9 labels; ${fixed(protobuf.length / 1e6, 1)} MB protobuf)`;
  return [
    {
      row: `remote-write 1.0 encode + snappy, ${label}`,
      ours: perSecond(samples / (t.ours.median / 1000), 'samples/s'),
      reference: `${perSecond(samples / (t.reference.median / 1000), 'samples/s')} (prometheus-remote-write)`,
      ratio: times(t.reference.median / t.ours.median, 'faster'),
      target: '≥ 5× faster',
      met: t.reference.median / t.ours.median >= 5,
    },
    {
      row: `same, vs the floor, ${samples.toLocaleString('en-US')} samples`,
      ours: `${fixed(t.ours.median, 2)} ms`,
      reference: `${fixed(t.floor.median, 2)} ms (snappyjs on our protobuf)`,
      ratio: times(t.ours.median / t.floor.median, "the floor's time"),
      target: "≤ 1.5× the floor's time",
      met: t.ours.median / t.floor.median <= 1.5,
    },
  ];
}

/** A prom-client registry holding the same series, one metric per sample name (counters for `_total`). */
function promClientRegistry(families: readonly ExpositionFamily[]): Registry {
  const registry = new Registry();
  for (const { family, samples } of families) {
    const byName = new Map<string, ExpositionFamily['samples']>();
    for (const s of samples) {
      const list = byName.get(s.name);
      if (list) list.push(s);
      else byName.set(s.name, [s]);
    }
    for (const [name, list] of byName) {
      const labelNames = Object.keys(list[0]!.labels);
      const help = family.help ?? name;
      if (name.endsWith('_total')) {
        const counter = new Counter({ name, help, labelNames, registers: [registry] });
        for (const s of list) counter.inc(s.labels, s.value);
      } else {
        const gauge = new Gauge({ name, help, labelNames, registers: [registry] });
        for (const s of list) gauge.set(s.labels, s.value);
      }
    }
  }
  return registry;
}

export async function textExpositionRow(jobs: number, timing: TimingOptions): Promise<Row> {
  const families = expositionFamilies(jobs);
  const series = jobs * SERIES_PER_PUSH;
  const registry = promClientRegistry(families);
  const lines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const oursText = Buffer.from(encodeTextExposition(families)).toString('utf8');
  const theirs = await registry.metrics();
  if (lines(oursText) !== series || lines(theirs) !== series) {
    throw new Error(`bench: expected ${series} sample lines, ours has ${lines(oursText)}, prom-client ${lines(theirs)}`);
  }
  // Each push brings the same series as fresh strings (parsed from new envelopes), and the encoder keeps what it
  // rendered by label content: so calls rotate through copies that share no string objects.
  const pushes = Array.from({ length: 6 }, () => JSON.parse(JSON.stringify(families)) as ExpositionFamily[]);
  let push = 0;
  // Both bodies are taken as far as the wire needs them: ours is UTF-8 bytes already; prom-client's string is built
  // by concatenation, a rope until something reads it, and the sender always does (Buffer.byteLength flattens it,
  // as the HTTP client's conversion to bytes would, which would then encode it too).
  const t = await timeInterleaved(
    {
      ours: () => encodeTextExposition(pushes[push++ % pushes.length]!).length,
      reference: async () => Buffer.byteLength(await registry.metrics()),
    },
    timing,
  );
  return {
    row: `text exposition encode, ${series.toLocaleString('en-US')} series (9 labels)`,
    ours: perSecond(series / (t.ours.median / 1000), 'series/s'),
    reference: `${perSecond(series / (t.reference.median / 1000), 'series/s')} (prom-client \`.metrics()\`)`,
    ratio: times(t.reference.median / t.ours.median, 'faster'),
    target: '≥ 3× faster',
    met: t.reference.median / t.ours.median >= 3,
  };
}
