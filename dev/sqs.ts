/**
 * SQS for the local stack and the tests: fauxqs (DESIGN §4, "SQS locally") in this process, with a queue and a
 * dead-letter queue joined by a RedrivePolicy, and an SQSClient that reaches it.
 */

import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';

// The SDK warns on every client construction under Node 20; the warning says nothing about our code.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const LOCAL_REGION = 'us-east-1';

/** Credentials fauxqs accepts (it validates none); also what the local stack hands the handlers. */
export const DUMMY_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface SqsOptions {
  /** Receives before a message moves to the DLQ (default 3). */
  maxReceiveCount?: number;
  /** The queue's VisibilityTimeout (default 30 s, as SQS). */
  visibilityTimeoutSeconds?: number;
  /** Queue name (default `beam-prom-relay`); the DLQ is `<name>-dlq`. */
  queueName?: string;
}

export interface LocalSqs {
  /** fauxqs' base URL, for `AWS_ENDPOINT_URL_SQS` and the client's `endpoint`. */
  endpoint: string;
  region: string;
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
  client: SQSClient;
  stop(): Promise<void>;
}

/** Starts fauxqs on a free port and creates the queue and its DLQ. */
export async function startSqs(options: SqsOptions = {}): Promise<LocalSqs> {
  const { startFauxqs } = await import('fauxqs');
  const server = await startFauxqs({ port: 0, logger: false, defaultRegion: LOCAL_REGION });
  const name = options.queueName ?? 'beam-prom-relay';
  const dlq = server.createQueue(`${name}-dlq`, { region: LOCAL_REGION });
  const queue = server.createQueue(name, {
    region: LOCAL_REGION,
    attributes: {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: String(options.maxReceiveCount ?? 3) }),
    },
  });
  const client = sqsClient(server.address);
  return {
    endpoint: server.address,
    region: LOCAL_REGION,
    queueUrl: queue.queueUrl,
    queueArn: queue.queueArn,
    dlqUrl: dlq.queueUrl,
    dlqArn: dlq.queueArn,
    client,
    stop: async () => {
      client.destroy();
      await server.stop();
    },
  };
}

/**
 * An SQSClient for a local endpoint. fauxqs' queue URLs name the host `sqs.<region>.localhost`, which does not
 * resolve; `useQueueUrlAsEndpoint: false` keeps the SDK from sending requests there instead of to `endpoint`.
 */
export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: LOCAL_REGION, credentials: DUMMY_CREDENTIALS, useQueueUrlAsEndpoint: false });
}

/**
 * Drains a queue for inspection: receives until a receive comes back empty, deleting what it read, and returns
 * the messages with all their system and message attributes.
 */
export async function receiveAll(client: SQSClient, queueUrl: string, { maxMessages = 1_000 } = {}): Promise<Message[]> {
  const drained: Message[] = [];
  while (drained.length < maxMessages) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    drained.push(...Messages);
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return drained;
}
