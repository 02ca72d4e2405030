/**
 * Reads a packaged CloudFormation template the way CloudFormation would for the conditions it can decide without
 * an account: conditions over literals (every condition in serverless.yml compares params known at package time),
 * `Fn::If` branches chosen, `AWS::NoValue` dropped, and resources whose condition is false left out.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Resource {
  Type: string;
  Condition?: string;
  Properties: Record<string, any>;
  DependsOn?: string | string[];
}

export interface Template {
  Conditions: Record<string, boolean>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: any; Description?: string }>;
}

/** A template uses an intrinsic this reader cannot decide offline. */
export class UndecidableConditionError extends Error {
  override name = 'UndecidableConditionError';
  constructor(readonly expression: unknown) {
    super(`cannot decide ${JSON.stringify(expression)} without an account`);
  }
}

const NO_VALUE = Symbol('AWS::NoValue');

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function literal(value: Json): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UndecidableConditionError(value);
}

function decide(expression: Json, raw: Record<string, Json>, decided: Map<string, boolean>): boolean {
  if (!isObject(expression)) throw new UndecidableConditionError(expression);
  const [[fn, args]] = Object.entries(expression) as [[string, Json]];
  const list = Array.isArray(args) ? args : [];
  switch (fn) {
    case 'Fn::Equals':
      return literal(list[0] ?? null) === literal(list[1] ?? null);
    case 'Fn::Not':
      return !decide(list[0] ?? null, raw, decided);
    case 'Fn::And':
      return list.every((e) => decide(e, raw, decided));
    case 'Fn::Or':
      return list.some((e) => decide(e, raw, decided));
    case 'Condition':
      return condition(String(args), raw, decided);
    default:
      throw new UndecidableConditionError(expression);
  }
}

function condition(name: string, raw: Record<string, Json>, decided: Map<string, boolean>): boolean {
  const known = decided.get(name);
  if (known !== undefined) return known;
  const expression = raw[name];
  if (expression === undefined) throw new Error(`condition ${name} is not defined`);
  const value = decide(expression, raw, decided);
  decided.set(name, value);
  return value;
}

function resolve(value: Json, conditions: Map<string, boolean>): Json | typeof NO_VALUE {
  if (Array.isArray(value)) {
    return value.map((v) => resolve(v, conditions)).filter((v): v is Json => v !== NO_VALUE);
  }
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Ref' && value.Ref === 'AWS::NoValue') return NO_VALUE;
  if (keys.length === 1 && keys[0] === 'Fn::If') {
    const [name, whenTrue, whenFalse] = value['Fn::If'] as [string, Json, Json];
    const chosen = conditions.get(name);
    if (chosen === undefined) throw new Error(`Fn::If names an undefined condition ${name}`);
    return resolve(chosen ? whenTrue : whenFalse, conditions);
  }
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    const r = resolve(v, conditions);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

/** The template as deployed: conditions decided, Fn::If resolved, AWS::NoValue removed, false-condition resources gone. */
export function resolveTemplate(raw: any): Template {
  const rawConditions = (raw.Conditions ?? {}) as Record<string, Json>;
  const decided = new Map<string, boolean>();
  for (const name of Object.keys(rawConditions)) condition(name, rawConditions, decided);
  const resources: Record<string, Resource> = {};
  for (const [id, resource] of Object.entries(raw.Resources as Record<string, Json>)) {
    const r = resource as Record<string, Json>;
    if (typeof r.Condition === 'string' && !decided.get(r.Condition)) continue;
    resources[id] = resolve(r, decided) as unknown as Resource;
  }
  const outputs = resolve((raw.Outputs ?? {}) as Json, decided) as Template['Outputs'];
  return { Conditions: Object.fromEntries(decided), Resources: resources, Outputs: outputs };
}

/** The resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, Resource> {
  return Object.fromEntries(Object.entries(template.Resources).filter(([, r]) => r.Type === type));
}

/** A resource that must exist, with its type checked. */
export function resource(template: Template, id: string, type: string): Resource {
  const r = template.Resources[id];
  if (r === undefined) throw new Error(`resource ${id} is missing; have ${Object.keys(template.Resources).join(', ')}`);
  if (r.Type !== type) throw new Error(`resource ${id} is ${r.Type}, expected ${type}`);
  return r;
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of a role's inline policies. */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const role = resource(template, roleId, 'AWS::IAM::Role');
  return (role.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap((p) => p.PolicyDocument.Statement);
}

export const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
