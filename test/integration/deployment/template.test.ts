/**
 * The stack as CloudFormation would receive it: serverless.yml packaged offline by the real CLI (osls) for the
 * dev and prod stages and for a stage with every optional feature on, then read resource by resource.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAcceptedEvents } from '../../../lib/inputs/eventbridge.ts';
import { buildFunctions } from '../../../scripts/build.mjs';
import { packageStage } from '../../../scripts/package.mjs';
import { asList, resolveTemplate, resource, resourcesOfType, roleStatements, type Template } from './cloudformation.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const WORKSPACE_ARN = 'arn:aws:aps:eu-west-1:123456789012:workspace/ws-0123abcd-4567-89ef-0123-456789abcdef';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:oncall';
const TOKEN_REFERENCE = '{{resolve:secretsmanager:beam-prom-relay/full:SecretString:ingestToken}}';
const FOUR_DAYS = 4 * 24 * 3600;
const FOURTEEN_DAYS = 14 * 24 * 3600;

/** Variables Lambda sets itself or that only local runs use. */
// Set by Lambda itself (region, memory) or only for local runs (the SQS endpoint).
const NOT_DEPLOYED = new Set(['AWS_REGION', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_ENDPOINT_URL_SQS']);
const SECRETS = ['INGEST_TOKEN', 'INGEST_HMAC_SECRET', 'REMOTE_WRITE_BEARER_TOKEN', 'REMOTE_WRITE_BASIC_AUTH_PASSWORD'];

/** A network namespace can be made here (Linux, privileged): packaging then runs with no network at all. */
const canIsolateNetwork = spawnSync('unshare', ['-n', 'true']).status === 0;

let workDir: string;
let dev: Template;
let prod: Template;
let full: Template;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'bpr-package-'));
  await buildFunctions();
  const stage = (name: string) => join(workDir, name);
  // The CLI runs are independent (each on its own copy of the service); side by side they finish sooner.
  [dev, prod, full] = await Promise.all([
    packageStage({ stage: 'dev', outdir: stage('dev'), isolateNetwork: canIsolateNetwork }).then(resolveTemplate),
    packageStage({ stage: 'prod', outdir: stage('prod') }).then(resolveTemplate),
    packageStage({
      stage: 'full',
      outdir: stage('full'),
      region: 'eu-west-1',
      params: {
        fifo: true,
        batchWindowSeconds: 0,
        ampWorkspaceArn: WORKSPACE_ARN,
        remoteWriteUrl: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/remote_write',
        eventBusName: 'beam-jobs',
        alarmTopicArn: TOPIC_ARN,
        ingestToken: TOKEN_REFERENCE,
        eventSources: 'aws.glue:Glue Job State Change,aws.glue:Glue Job Run Status,aws.batch:*,*:Beam Pipeline Metrics',
      },
    }).then(resolveTemplate),
  ]);
});

after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const fn = (t: Template, name: 'Ingest' | 'Deliver') => resource(t, `${name}LambdaFunction`, 'AWS::Lambda::Function');
const env = (t: Template, name: 'Ingest' | 'Deliver') => fn(t, name).Properties.Environment.Variables as Record<string, unknown>;
const esm = (t: Template) => Object.values(resourcesOfType(t, 'AWS::Lambda::EventSourceMapping'))[0]!.Properties;
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });

/** Environment variables each function's code reads: env lookups in every module its handler imports. */
function variablesReadBy(entry: string): Set<string> {
  const names = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/\(env,\s*'([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]!);
    for (const m of source.matchAll(/^import (?!type )[^;]*? from '(\.{1,2}\/[^']+\.ts)';/gms)) visit(resolve(dirname(file), m[1]!));
  };
  visit(join(ROOT, entry));
  return names;
}

describe('packaging', () => {
  it('runs offline: the dev stage packages with no network interface at all', { skip: !canIsolateNetwork && 'unshare -n is not permitted here' }, () => {
    assert.ok(dev.Resources.IngestLambdaFunction, 'packaged under unshare -n');
  });
});

describe('functions', () => {
  it('run nodejs22.x on arm64 from the prebuilt bundles, each with its own role', () => {
    for (const t of [dev, prod]) {
      for (const [name, role] of [['Ingest', 'IngestRole'], ['Deliver', 'DeliverRole']] as const) {
        const p = fn(t, name).Properties;
        assert.equal(p.Runtime, 'nodejs22.x');
        assert.deepEqual(p.Architectures, ['arm64']);
        assert.equal(p.Handler, `dist/${name.toLowerCase()}/index.handler`);
        assert.deepEqual(p.Role, getAtt(role, 'Arn'));
      }
    }
    assert.equal(dev.Resources.IamRoleLambdaExecution, undefined, 'no shared default role');
  });

  it('give deliver the timeout param and ingest less than API Gateway’s 30 s', () => {
    assert.equal(fn(dev, 'Deliver').Properties.Timeout, 60);
    assert.equal(fn(prod, 'Deliver').Properties.Timeout, 120);
    assert.ok(fn(dev, 'Ingest').Properties.Timeout < 30);
  });

  it('wire every variable the code reads, on the function that reads it', () => {
    for (const [name, entry] of [['Ingest', 'functions/ingest.ts'], ['Deliver', 'functions/deliver.ts']] as const) {
      const read = [...variablesReadBy(entry)].filter((v) => !NOT_DEPLOYED.has(v));
      const missing = read.filter((v) => !(v in env(dev, name)));
      assert.deepEqual(missing, [], `${name} reads these, serverless.yml does not set them`);
    }
  });

  it('point ingest at the queue and deliver at the DLQ', () => {
    assert.deepEqual(env(dev, 'Ingest').QUEUE_URL, { Ref: 'EnvelopeQueue' });
    assert.deepEqual(env(dev, 'Deliver').DLQ_URL, { Ref: 'DeadLetterQueue' });
  });

  it('keep secrets out of the template: each is empty or a dynamic reference, passed through unresolved', () => {
    for (const t of [dev, prod, full]) {
      for (const name of ['Ingest', 'Deliver'] as const) {
        for (const [variable, value] of Object.entries(env(t, name))) {
          if (!SECRETS.includes(variable)) continue;
          assert.ok(value === '' || /^\{\{resolve:(secretsmanager|ssm):/.test(String(value)), `${variable} = ${String(value)}`);
        }
      }
    }
    assert.equal(env(full, 'Ingest').INGEST_TOKEN, TOKEN_REFERENCE);
  });

  it('send job-event sources to ingest as EVENT_SOURCES, the list the EventBridge rules are built from', () => {
    assert.match(String(env(dev, 'Ingest').EVENT_SOURCES), /aws\.glue:Glue Job State Change/);
    assert.doesNotThrow(() => parseAcceptedEvents(String(env(dev, 'Ingest').EVENT_SOURCES)));
  });
});

describe('queues', () => {
  it('hold envelopes four days and dead letters fourteen', () => {
    for (const t of [dev, prod, full]) {
      assert.ok(resource(t, 'EnvelopeQueue', 'AWS::SQS::Queue').Properties.MessageRetentionPeriod >= FOUR_DAYS);
      assert.equal(resource(t, 'DeadLetterQueue', 'AWS::SQS::Queue').Properties.MessageRetentionPeriod, FOURTEEN_DAYS);
    }
  });

  it('keep a message invisible for at least six deliver timeouts (AWS guidance for Lambda sources)', () => {
    for (const t of [dev, prod, full]) {
      const visibility = resource(t, 'EnvelopeQueue', 'AWS::SQS::Queue').Properties.VisibilityTimeout;
      assert.ok(visibility >= 6 * fn(t, 'Deliver').Properties.Timeout, `${visibility} s`);
    }
  });

  it('redrive to the DLQ after maxReceiveCount receives', () => {
    assert.deepEqual(resource(dev, 'EnvelopeQueue', 'AWS::SQS::Queue').Properties.RedrivePolicy, {
      deadLetterTargetArn: getAtt('DeadLetterQueue', 'Arn'),
      maxReceiveCount: 5,
    });
    assert.equal(resource(prod, 'EnvelopeQueue', 'AWS::SQS::Queue').Properties.RedrivePolicy.maxReceiveCount, 10);
  });

  it('are standard queues unless fifo is on', () => {
    const q = resource(dev, 'EnvelopeQueue', 'AWS::SQS::Queue').Properties;
    assert.equal(q.FifoQueue, undefined);
    assert.equal(q.QueueName, 'beam-prom-relay-dev-envelopes');
  });

  it('become FIFO queues, both of them, without content-based deduplication when fifo is on', () => {
    for (const [id, name] of [['EnvelopeQueue', 'beam-prom-relay-full-envelopes.fifo'], ['DeadLetterQueue', 'beam-prom-relay-full-envelopes-dlq.fifo']]) {
      const q = resource(full, id!, 'AWS::SQS::Queue').Properties;
      assert.equal(q.QueueName, name);
      assert.equal(q.FifoQueue, true);
      assert.equal(q.ContentBasedDeduplication, false);
    }
  });
});

describe('deliver’s SQS event source', () => {
  it('reports batch item failures with the batch size, window and concurrency of the stage', () => {
    const expected = [
      [dev, 10, 5, 2],
      [prod, 100, 10, 10],
    ] as const;
    for (const [t, batchSize, window, concurrency] of expected) {
      const p = esm(t);
      assert.deepEqual(p.FunctionResponseTypes, ['ReportBatchItemFailures']);
      assert.equal(p.BatchSize, batchSize);
      assert.equal(p.MaximumBatchingWindowInSeconds, window);
      assert.deepEqual(p.ScalingConfig, { MaximumConcurrency: concurrency });
      assert.deepEqual(p.EventSourceArn, getAtt('EnvelopeQueue', 'Arn'));
      assert.deepEqual(p.FunctionName, getAtt('DeliverLambdaFunction', 'Arn'));
    }
  });

  it('has no batching window on a FIFO queue, where Lambda refuses one', () => {
    assert.equal(esm(full).MaximumBatchingWindowInSeconds, undefined);
    assert.equal(esm(full).BatchSize, 10);
  });
});

describe('IAM', () => {
  const logGroup = (stage: string, name: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/beam-prom-relay-${stage}-${name}:*`,
  });

  it('lets ingest write its own log group, send to its queue and to its failed-events queue, nothing else', () => {
    const statements = roleStatements(dev, 'IngestRole').map(({ Effect, Action, Resource }) => ({ Effect, Action: asList(Action), Resource }));
    assert.deepEqual(statements, [
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: logGroup('dev', 'ingest') },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: getAtt('EnvelopeQueue', 'Arn') },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: getAtt('FailedEventsQueue', 'Arn') },
    ]);
  });

  it('keeps job events ingest could not enqueue: two async retries, then the failed-events queue', () => {
    const config = resource(dev, 'IngestEventInvokeConfig', 'AWS::Lambda::EventInvokeConfig').Properties;
    assert.deepEqual(config.FunctionName, { Ref: 'IngestLambdaFunction' });
    assert.equal(config.MaximumRetryAttempts, 2);
    assert.deepEqual(config.DestinationConfig, { OnFailure: { Destination: getAtt('FailedEventsQueue', 'Arn') } });
    assert.equal(resource(dev, 'FailedEventsQueue', 'AWS::SQS::Queue').Properties.MessageRetentionPeriod, 1209600);
  });

  it('lets deliver consume its queue, send to the DLQ and write its log group, and no AMP without SigV4', () => {
    const statements = roleStatements(dev, 'DeliverRole').map(({ Effect, Action, Resource }) => ({ Effect, Action: asList(Action), Resource }));
    assert.deepEqual(statements, [
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: logGroup('dev', 'deliver') },
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        Resource: getAtt('EnvelopeQueue', 'Arn'),
      },
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: getAtt('DeadLetterQueue', 'Arn') },
    ]);
    assert.equal(env(dev, 'Deliver').REMOTE_WRITE_SIGV4, 'false');
  });

  it('adds aps:RemoteWrite on exactly the workspace when SigV4 is on, and turns signing on', () => {
    const aps = roleStatements(full, 'DeliverRole').filter((s) => asList(s.Action).some((a) => a.startsWith('aps:')));
    assert.deepEqual(aps.map(({ Action, Resource }) => ({ Action, Resource })), [{ Action: 'aps:RemoteWrite', Resource: WORKSPACE_ARN }]);
    assert.equal(env(full, 'Deliver').REMOTE_WRITE_SIGV4, 'true');
    assert.deepEqual(roleStatements(full, 'IngestRole').filter((s) => asList(s.Action).some((a) => a.startsWith('aps:'))), []);
  });

  it('grants no wildcard action or resource anywhere', () => {
    for (const t of [dev, prod, full]) {
      for (const role of ['IngestRole', 'DeliverRole']) {
        for (const s of roleStatements(t, role)) {
          assert.ok(!asList(s.Action).some((a) => a.includes('*')), `${role} action ${String(s.Action)}`);
          // A log group's streams are named `<group ARN>:*`; that suffix is the one wildcard a scoped grant needs.
          const text = JSON.stringify(s.Resource).replace(/:log-group:[^*:"]+:\*"/g, '"');
          assert.ok(!text.includes('*'), `${role} resource ${JSON.stringify(s.Resource)}`);
        }
      }
    }
  });
});

describe('events into ingest', () => {
  it('routes POST /metrics/job/{proxy+} of the HTTP API to ingest', () => {
    const routes = Object.values(resourcesOfType(dev, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    assert.deepEqual(routes, ['POST /metrics/job/{proxy+}']);
    const integration = Object.values(resourcesOfType(dev, 'AWS::ApiGatewayV2::Integration'))[0]!.Properties;
    assert.equal(integration.PayloadFormatVersion, '2.0');
    assert.match(JSON.stringify(integration.IntegrationUri), /IngestLambdaFunction/);
  });

  it('builds the default-bus rule from EVENT_SOURCES: one branch per source, any source for custom events', () => {
    const rule = resource(full, 'JobEventsRule', 'AWS::Events::Rule').Properties;
    const accepted = parseAcceptedEvents(String(env(full, 'Ingest').EVENT_SOURCES));
    assert.equal(accepted.length, 4);
    assert.deepEqual(rule.EventPattern, {
      $or: [
        { source: ['aws.glue'], 'detail-type': ['Glue Job State Change', 'Glue Job Run Status'] },
        { source: ['aws.batch'] },
        { 'detail-type': ['Beam Pipeline Metrics'] },
      ],
    });
    assert.equal(rule.EventBusName, undefined, 'AWS services publish to the default bus');
    assert.deepEqual(rule.Targets, [{ Id: 'ingest', Arn: getAtt('IngestLambdaFunction', 'Arn') }]);
  });

  it('lets EventBridge invoke ingest only from the stack’s rules', () => {
    const permissions = Object.values(resourcesOfType(full, 'AWS::Lambda::Permission')).filter((p) => p.Properties.Principal === 'events.amazonaws.com');
    assert.deepEqual(permissions.map((p) => p.Properties.SourceArn).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
      getAtt('CustomBusEventsRule', 'Arn'),
      getAtt('JobEventsRule', 'Arn'),
    ]);
  });

  it('adds a rule on the custom bus only when eventBusName is set', () => {
    assert.equal(resource(full, 'CustomBusEventsRule', 'AWS::Events::Rule').Properties.EventBusName, 'beam-jobs');
    assert.equal(dev.Resources.CustomBusEventsRule, undefined);
    assert.equal(dev.Resources.CustomBusEventsPermission, undefined);
  });
});

describe('operations', () => {
  it('keeps each function’s logs for the stage’s retention', () => {
    for (const [t, days] of [[dev, 7], [prod, 90]] as const) {
      for (const name of ['Ingest', 'Deliver']) {
        assert.equal(resource(t, `${name}LogGroup`, 'AWS::Logs::LogGroup').Properties.RetentionInDays, days);
      }
    }
  });

  it('alarms on dead letters, old envelopes and function errors', () => {
    const alarm = (t: Template, id: string) => resource(t, id, 'AWS::CloudWatch::Alarm').Properties;
    const dlq = alarm(dev, 'DeadLetterAlarm');
    assert.deepEqual([dlq.Namespace, dlq.MetricName, dlq.ComparisonOperator, dlq.Threshold], ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'GreaterThanThreshold', 0]);
    assert.deepEqual(dlq.Dimensions, [{ Name: 'QueueName', Value: getAtt('DeadLetterQueue', 'QueueName') }]);
    const failedEvents = alarm(dev, 'FailedEventsAlarm');
    assert.deepEqual([failedEvents.MetricName, failedEvents.Threshold], ['ApproximateNumberOfMessagesVisible', 0]);
    assert.deepEqual(failedEvents.Dimensions, [{ Name: 'QueueName', Value: getAtt('FailedEventsQueue', 'QueueName') }]);
    const age = alarm(dev, 'QueueAgeAlarm');
    assert.deepEqual([age.MetricName, age.Threshold], ['ApproximateAgeOfOldestMessage', 900]);
    assert.deepEqual(age.Dimensions, [{ Name: 'QueueName', Value: getAtt('EnvelopeQueue', 'QueueName') }]);
    for (const [id, functionId] of [['DeliverErrorsAlarm', 'DeliverLambdaFunction'], ['IngestErrorsAlarm', 'IngestLambdaFunction']]) {
      const errors = alarm(dev, id!);
      assert.deepEqual([errors.Namespace, errors.MetricName, errors.Statistic, errors.Threshold], ['AWS/Lambda', 'Errors', 'Sum', 0]);
      assert.deepEqual(errors.Dimensions, [{ Name: 'FunctionName', Value: { Ref: functionId } }]);
    }
  });

  it('notifies the alarm topic when one is given, and no one otherwise', () => {
    for (const a of Object.values(resourcesOfType(full, 'AWS::CloudWatch::Alarm'))) {
      assert.deepEqual(a.Properties.AlarmActions, [TOPIC_ARN]);
      assert.deepEqual(a.Properties.OKActions, [TOPIC_ARN]);
    }
    for (const a of Object.values(resourcesOfType(dev, 'AWS::CloudWatch::Alarm'))) assert.equal(a.Properties.AlarmActions, undefined);
  });

  it('outputs the webhook URL, the queue URL and the DLQ URL', () => {
    assert.deepEqual(dev.Outputs.QueueUrl!.Value, { Ref: 'EnvelopeQueue' });
    assert.deepEqual(dev.Outputs.DeadLetterQueueUrl!.Value, { Ref: 'DeadLetterQueue' });
    assert.match(JSON.stringify(dev.Outputs.WebhookUrl!.Value), /\$\{HttpApi\}\.execute-api\..*\/metrics\/job\//);
    assert.ok(dev.Outputs.HttpApiUrl);
  });
});
