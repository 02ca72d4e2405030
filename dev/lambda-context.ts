/** A Lambda invocation `Context` for running handlers locally. */

import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

export interface InvocationOptions {
  functionName: string;
  /** The function's configured timeout; `getRemainingTimeInMillis()` counts down from it. */
  timeoutMs: number;
  region: string;
  memoryLimitInMB?: number;
}

/** A fresh context for one invocation, its clock started now. */
export function invocationContext({ functionName, timeoutMs, region, memoryLimitInMB = 256 }: InvocationOptions): Context {
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  const unsupported = () => {
    throw new Error('done / fail / succeed are the deprecated callback API; return or throw instead');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryLimitInMB),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
