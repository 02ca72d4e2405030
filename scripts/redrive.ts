/**
 * `npm run redrive -- --dlq <url> --queue <url> [--dry-run] [--max N] [--endpoint <sqs endpoint>] [--region R]`
 *
 * Moves dead-lettered messages back to the queue after a fix (lib/queue/redrive.ts). `--dry-run` counts them by
 * reason and changes nothing. Credentials come from the usual AWS chain (environment, profile, SSO…); the region
 * from `--region`, `AWS_REGION`, or the queue URL (`https://sqs.<region>.amazonaws.com/…`). `--endpoint` points at
 * a local SQS API (fauxqs), whose queue URLs name hosts that do not resolve.
 * Exit status: 0 when everything received was moved (or counted), 1 when some was not, 2 on a usage error.
 */

import { parseArgs } from 'node:util';
import { createSqsClient } from '../lib/queue/sqs.ts';
import { formatRedrive, redrive } from '../lib/queue/redrive.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = 'usage: npm run redrive -- --dlq <url> --queue <url> [--dry-run] [--max N] [--endpoint <sqs endpoint>] [--region R]';

function usage(problem: string): never {
  console.error(`redrive: ${problem}\n${USAGE}`);
  process.exit(2);
}

let values: { dlq?: string; queue?: string; 'dry-run'?: boolean; max?: string; endpoint?: string; region?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      dlq: { type: 'string' },
      queue: { type: 'string' },
      'dry-run': { type: 'boolean' },
      max: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (error) {
  usage((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const { dlq, queue } = values;
if (!dlq) usage('--dlq is required');
if (!queue) usage('--queue is required');
if (dlq === queue) usage('--dlq and --queue are the same queue');
let max: number | undefined;
if (values.max !== undefined) {
  if (!/^\d+$/.test(values.max) || Number(values.max) < 1) usage(`--max must be a positive whole number, got "${values.max}"`);
  max = Number(values.max);
}
const region = values.region ?? process.env.AWS_REGION ?? /^https?:\/\/sqs\.([a-z0-9-]+)\./.exec(queue)?.[1];

const client = await createSqsClient({ ...(region ? { region } : {}), ...(values.endpoint ? { endpoint: values.endpoint } : {}) });
try {
  const result = await redrive(client, { dlqUrl: dlq, queueUrl: queue, dryRun: values['dry-run'] ?? false, ...(max ? { max } : {}) });
  console.log(formatRedrive(result));
  process.exitCode = result.sendFailed.length + result.deleteFailed.length > 0 ? 1 : 0;
} catch (error) {
  console.error(`redrive: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  process.exitCode = 1;
} finally {
  client.destroy();
}
