// Types for scripts/stack.cjs (the variable resolvers serverless.yml loads with ${file(./scripts/stack.cjs):name}).

interface AcceptedEvent {
  source: string;
  detailType: string;
}

/** What the CLI hands a resolver; only resolveVariable is used. */
interface ResolverContext {
  resolveVariable(address: string): Promise<unknown>;
}

declare const stack: {
  parseEventSources(text: string): AcceptedEvent[];
  eventPattern(accepted: readonly AcceptedEvent[]): Record<string, unknown>;
  jobEventPattern(context: ResolverContext): Promise<Record<string, unknown>>;
  deliverQueueEvent(context: ResolverContext): Promise<Record<string, unknown>>;
  visibilityTimeout(context: ResolverContext): Promise<number>;
  fifo(context: ResolverContext): Promise<'true' | 'false'>;
};

export = stack;
