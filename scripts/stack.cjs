'use strict';
// Values serverless.yml derives from its params where YAML alone cannot, loaded by the CLI with require()
// (`${file(./scripts/stack.cjs):name}`). Each check fails packaging with the param's name instead of letting
// CloudFormation or Lambda refuse the stack halfway through a deploy.

async function param(resolveVariable, name) {
  const value = await resolveVariable(`param:${name}`);
  return typeof value === 'string' ? value.trim() : value;
}

async function wholeNumber(resolveVariable, name, min, max) {
  const raw = await param(resolveVariable, name);
  const n = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw)) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`param ${name}: ${JSON.stringify(raw)} is not a whole number in ${min}..${max}`);
  return n;
}

async function flag(resolveVariable, name) {
  const raw = await param(resolveVariable, name);
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new Error(`param ${name}: ${JSON.stringify(raw)} is not true or false`);
}

/**
 * `source:detail-type` pairs, comma-separated, split at the first `:` — the grammar of the ingest function's
 * EVENT_SOURCES (parseAcceptedEvents in lib/inputs/eventbridge.ts); `*` stands for any source or detail-type.
 */
function parseEventSources(text) {
  const accepted = [];
  for (const entry of String(text).split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const colon = trimmed.indexOf(':');
    const source = colon === -1 ? '' : trimmed.slice(0, colon).trim();
    const detailType = colon === -1 ? '' : trimmed.slice(colon + 1).trim();
    if (source === '' || detailType === '') throw new Error(`param eventSources: ${JSON.stringify(trimmed)} is not "source:detail-type" (use * for any detail-type)`);
    // A rule matching every event on the bus would invoke ingest for all of the account's traffic.
    if (source === '*' && detailType === '*') throw new Error('param eventSources: "*:*" would send every event on the bus to the ingest function');
    accepted.push({ source, detailType });
  }
  if (accepted.length === 0) throw new Error('param eventSources: empty; list at least one source:detail-type (e.g. *:Beam Pipeline Metrics)');
  return accepted;
}

/** One EventBridge pattern for the accepted events: a branch per source, `$or` when there are several. */
function eventPattern(accepted) {
  const bySource = new Map();
  for (const { source, detailType } of accepted) {
    const types = bySource.get(source) ?? new Set();
    types.add(detailType);
    bySource.set(source, types);
  }
  const branches = [...bySource].map(([source, types]) => ({
    ...(source === '*' ? {} : { source: [source] }),
    ...(types.has('*') ? {} : { 'detail-type': [...types] }),
  }));
  return branches.length === 1 ? branches[0] : { $or: branches };
}

/** The deliver function's SQS event. */
async function deliverQueueEvent({ resolveVariable }) {
  const fifo = await flag(resolveVariable, 'fifo');
  // Lambda's SQS limits: FIFO batches hold at most 10 messages; standard up to 10 000.
  const batchSize = await wholeNumber(resolveVariable, 'batchSize', 1, fifo ? 10 : 10_000);
  const batchWindowSeconds = await wholeNumber(resolveVariable, 'batchWindowSeconds', 0, 300);
  if (fifo && batchWindowSeconds > 0) throw new Error('param batchWindowSeconds: Lambda has no batching window for FIFO queues; set it to 0 with fifo: true');
  if (batchSize > 10 && batchWindowSeconds < 1) throw new Error('param batchWindowSeconds: Lambda requires a window of at least 1 s when batchSize is over 10');
  const maximumConcurrency = await wholeNumber(resolveVariable, 'maximumConcurrency', 2, 1000);
  return {
    arn: { 'Fn::GetAtt': ['EnvelopeQueue', 'Arn'] },
    batchSize,
    // The window is left out for FIFO queues, where Lambda refuses the setting.
    ...(fifo ? {} : { maximumBatchingWindow: batchWindowSeconds }),
    maximumConcurrency,
    functionResponseType: 'ReportBatchItemFailures',
  };
}

/**
 * The envelope queue's visibility timeout: six times the deliver timeout plus the batching window, AWS's guidance
 * for queues that feed Lambda, so a message is not handed out again while a retried invocation still holds it.
 */
async function visibilityTimeout({ resolveVariable }) {
  const timeout = await wholeNumber(resolveVariable, 'deliverTimeoutSeconds', 1, 900);
  const window = await wholeNumber(resolveVariable, 'batchWindowSeconds', 0, 300);
  // At most 6 × 900 + 300 s, well inside SQS's 12-hour limit.
  return 6 * timeout + window;
}

/** The fifo param as the string a CloudFormation condition compares ('true' / 'false'), whatever YAML type it had. */
async function fifo({ resolveVariable }) {
  return String(await flag(resolveVariable, 'fifo'));
}

async function jobEventPattern({ resolveVariable }) {
  return eventPattern(parseEventSources(await param(resolveVariable, 'eventSources')));
}

module.exports = { fifo, deliverQueueEvent, visibilityTimeout, jobEventPattern, parseEventSources, eventPattern };
