import { digestContext } from '../artifact/index.js';
import { checkTemplate } from '../render/index.js';

import {
  canonicalJson,
  canonicalRevisionJson,
  contentId,
  hiddenDigest,
  sha256,
} from './canonical.js';
import { Diagnostics } from './errors.js';
import type { EvalScope } from './evaluate.js';
import { evaluate, evaluateCondition } from './evaluate.js';
import { conditionRefs } from './expr.js';
import type { Finished } from './finish.js';
import { finishProperties } from './finish.js';
import { topologicalOrder } from './graph.js';
import type { Template, TemplateResource } from './load.js';
import { treeLocator } from './locator.js';
import type { ParameterInput } from './parameters.js';
import type { GivenValue } from './resolve-params.js';
import { resolveParameters } from './resolve-params.js';
import type {
  ResolvedOutput,
  ResolvedParameter,
  ResolvedResource,
  ResolveResult,
} from './resolved.js';
import type { AttributeContext, ResourceTypeName } from './types/index.js';
import { compiledSchema, isResourceType, resourceTypes } from './types/index.js';
import type { Json, Path, Value } from './values.js';
import {
  containsUnknown,
  Hidden,
  isPlainObject,
  isUnknown,
  Ref,
  reveal,
  UNKNOWN,
  unwrap,
} from './values.js';
import { reportIssues } from './zod-issues.js';

export interface ResolveOptions {
  /** The stack's name (qualifies nothing inside it; used for attributes such as volume paths). */
  readonly stack: string;
  /**
   * 'validate': parameters may lack values, checks skip what is not known yet.
   * 'plan': every parameter needs a value and everything must resolve.
   */
  readonly mode: 'validate' | 'plan';
  readonly parameters?: readonly ParameterInput[];
  /** Key of the keyed digests that stand in for hidden values. */
  readonly hiddenKey: Uint8Array;
  /** $DROVER_HOME, for attributes such as a volume's path. */
  readonly home: string;
  /** Where the proxy listens (default http://127.0.0.1:8080), for route URLs. */
  readonly proxyUrl?: string;
  /** Content digest of an artifact context (default: hash the directory). */
  readonly digest?: (dir: string) => Promise<string>;
}

interface Run {
  readonly options: ResolveOptions;
  /** What attribute values are computed from; the same for every resource. */
  readonly attributeContext: AttributeContext;
  /** Keyed digest of a hidden value, computed once per distinct value. */
  hide(value: unknown): Json;
  readonly diagnostics: Diagnostics;
  readonly resources: ResolvedResource[];
  readonly byName: Map<string, ResolvedResource>;
  readonly templateHashes: Set<string>;
  digest(dir: string): Promise<string>;
  /** checkTemplate once per distinct text: config templates are often repeated. */
  checkTemplate(text: string): string | undefined;
}

/** Evaluates a loaded template into a resolved stack (or reports why it cannot). */
export async function resolveStack(
  template: Template,
  options: ResolveOptions,
): Promise<ResolveResult> {
  const diagnostics = new Diagnostics();
  const digests = new Map<string, Promise<string>>();
  const digest = options.digest ?? digestContext;
  const hidden = new Map<string, Json>();
  const templateProblems = new Map<string, string | undefined>();
  const run: Run = {
    options,
    attributeContext: {
      stack: options.stack,
      home: options.home,
      proxyUrl: options.proxyUrl ?? 'http://127.0.0.1:8080',
    },
    hide: (value) => {
      const text = canonicalJson(value);
      let digest = hidden.get(text);
      if (digest === undefined) {
        digest = hiddenDigest(options.hiddenKey, value);
        hidden.set(text, digest);
      }
      return digest;
    },
    diagnostics,
    resources: [],
    byName: new Map(),
    templateHashes: new Set(),
    digest: (dir) => {
      let pending = digests.get(dir);
      if (pending === undefined) {
        pending = digest(dir);
        digests.set(dir, pending);
      }
      return pending;
    },
    checkTemplate: (text) => {
      if (!templateProblems.has(text)) templateProblems.set(text, checkTemplate(text));
      return templateProblems.get(text);
    },
  };
  const given = new Map<string, GivenValue>();
  for (const input of options.parameters ?? []) given.set(input.name, input);

  const { outputs, parameters } = await resolveTemplate(template, given, '', [], run);
  const requiredParameters = [...template.parameters.values()]
    .filter((p) => p.decl.default === undefined)
    .map((p) => p.name);
  if (diagnostics.size > 0) return { diagnostics: diagnostics.list, requiredParameters };

  const resolvedParameters: ResolvedParameter[] = [...template.parameters.values()].map((p) => {
    const value = parameters.get(p.name);
    return {
      name: p.name,
      type: p.decl.type,
      hidden: p.decl.hidden,
      value: toJson(value === undefined || isUnknown(value) ? null : value, options.hiddenKey),
      required: p.decl.default === undefined,
      description: p.decl.description,
    };
  });
  return {
    diagnostics: [],
    requiredParameters,
    stack: {
      name: options.stack,
      file: template.file,
      templateHash: contentId([...run.templateHashes].sort()),
      description: template.description,
      parameters: resolvedParameters,
      resources: run.resources,
      outputs,
    },
  };
}

interface ResourceState {
  readonly ref: Ref;
  readonly status: 'ok' | 'disabled' | 'unknown';
  readonly attributes: Value;
  /** Qualified names of the resolved resources this one stands for (a nested stack: all of its own). */
  readonly members: readonly string[];
}

async function resolveTemplate(
  template: Template,
  given: ReadonlyMap<string, GivenValue>,
  prefix: string,
  inherited: readonly string[],
  run: Run,
): Promise<{
  outputs: ResolvedOutput[];
  outputValues: Map<string, Value>;
  parameters: Map<string, Value>;
}> {
  const { diagnostics, options } = run;
  run.templateHashes.add(template.hash);
  const parameters = resolveParameters(
    template,
    given,
    prefix === '' ? options.mode : 'validate',
    diagnostics,
  );
  const states = new Map<string, ResourceState>();
  const conditionValues = new Map<string, Value>();
  const evaluating = new Set<string>();

  const scope: EvalScope = {
    diagnostics,
    param: (name) => parameters.get(name) ?? UNKNOWN,
    condition: (name) => {
      const known = conditionValues.get(name);
      if (known !== undefined) return known;
      const condition = template.conditions.get(name);
      if (condition === undefined || evaluating.has(name)) return UNKNOWN;
      evaluating.add(name);
      const value = evaluateCondition(condition.expr, scope);
      evaluating.delete(name);
      conditionValues.set(name, value);
      return value;
    },
    resource: (name) => {
      const state = states.get(name);
      if (state?.status === 'disabled') return 'disabled';
      const declared = template.resources.get(name);
      if (declared === undefined) return undefined;
      // A resolved resource's state has its ref and attributes already.
      return state ?? { ref: new Ref(prefix + name, declared.type), attributes: UNKNOWN };
    },
    mapping: (name) => template.mappings.get(name),
  };

  const staticDeps = new Map<string, string[]>();
  for (const [name, r] of template.resources) {
    staticDeps.set(
      name,
      r.references.map((ref) => ref.name),
    );
  }
  const order = topologicalOrder(
    [...template.resources.keys()].filter((n) => !template.cyclic.has(n)),
    staticDeps,
  );

  for (const name of order) {
    const declared = template.resources.get(name) as TemplateResource;
    const qualified = prefix + name;
    const ref = new Ref(qualified, declared.type);
    const enabled = declared.condition ? evaluateCondition(declared.condition, scope) : true;
    if (enabled === false) {
      states.set(name, { ref, status: 'disabled', attributes: UNKNOWN, members: [] });
      continue;
    }
    // Resources inside a nested stack also wait for what the nested stack as a whole depends on.
    const dependsOn = new Set(inherited);
    for (const dep of staticDeps.get(name) ?? [])
      for (const member of states.get(dep)?.members ?? []) dependsOn.add(member);
    const value = evaluate(declared.properties, scope);

    if (declared.nested !== undefined) {
      const childGiven = new Map<string, GivenValue>();
      const propsExpr = declared.properties;
      if (isPlainObject(value)) {
        for (const [key, v] of Object.entries(value)) {
          const loc =
            propsExpr.kind === 'map'
              ? propsExpr.entries.find((e) => e.key === key)?.value.loc
              : undefined;
          childGiven.set(key, { value: v, fromText: false, loc, source: declared.nested.file });
        }
      }
      const before = run.resources.length;
      const child = await resolveTemplate(
        declared.nested,
        childGiven,
        `${qualified}.`,
        [...dependsOn],
        run,
      );
      const members = run.resources.slice(before).map((r) => r.name);
      const attributes = Object.fromEntries(child.outputValues);
      states.set(name, { ref, status: 'ok', attributes, members });
      continue;
    }
    if (!declared.known || !isResourceType(declared.type)) {
      states.set(name, { ref, status: 'unknown', attributes: UNKNOWN, members: [] });
      continue;
    }
    let resolved = resolveResource(
      declared,
      declared.type,
      qualified,
      value,
      [...dependsOn],
      template.dir,
      run,
    );
    if (resolved instanceof Promise) resolved = await resolved;
    if (resolved === undefined) {
      states.set(name, { ref, status: 'unknown', attributes: UNKNOWN, members: [] });
      continue;
    }
    run.resources.push(resolved);
    run.byName.set(resolved.name, resolved);
    states.set(name, {
      ref,
      status: 'ok',
      attributes: resolved.attributes,
      members: [resolved.name],
    });
  }
  // Conditions nobody used are still checked.
  for (const name of template.conditions.keys()) scope.condition(name);

  const outputs: ResolvedOutput[] = [];
  const outputValues = new Map<string, Value>();
  for (const output of template.outputs.values()) {
    if (output.condition && evaluateCondition(output.condition, scope) === false) continue;
    for (const c of conditionRefs(output.value)) scope.condition(c.name);
    const value = evaluate(output.value, scope);
    outputValues.set(output.name, value);
    if (!containsUnknown(value)) {
      outputs.push({
        name: output.name,
        description: output.description,
        value: displayJson(value),
      });
    }
  }
  return { outputs, outputValues, parameters };
}

/** Checks and finishes a resource's properties; a promise only when its type's finisher is asynchronous. */
function resolveResource(
  declared: TemplateResource,
  type: ResourceTypeName,
  qualified: string,
  value: Value,
  dependsOn: readonly string[],
  dir: string,
  run: Run,
): Promise<ResolvedResource | undefined> | ResolvedResource | undefined {
  const def = resourceTypes[type];
  const locator = treeLocator(declared.properties, () => declared.propertiesLoc);
  const { value: plain, hidden, unknown, refs } = unwrap(value);
  const parsed = compiledSchema(type).safeParse(plain);
  if (!parsed.success) {
    reportIssues(parsed.error.issues, {
      schema: def.schema,
      locator,
      input: plain,
      diagnostics: run.diagnostics,
      unknownKeyCode: 'UNKNOWN_PROPERTY',
      keyNoun: `${type} property`,
      skip: unknown,
    });
    return undefined;
  }
  if (unknown.length > 0) return undefined;
  const finished = finishProperties(type, parsed.data, {
    diagnostics: run.diagnostics,
    dir,
    locator,
    lookup: (name) => run.byName.get(name),
    digest: run.digest,
    checkTemplate: run.checkTemplate,
  });
  const record = (done: Finished | undefined): ResolvedResource | undefined =>
    done && recordResource(declared, type, qualified, done, hidden, refs, dependsOn, dir, run);
  return finished instanceof Promise ? finished.then(record) : record(finished);
}

/** The resolved resource: its spec, revision and attributes. */
function recordResource(
  declared: TemplateResource,
  type: ResourceTypeName,
  qualified: string,
  finished: Finished,
  hidden: Path[],
  refs: readonly { path: Path }[],
  dependsOn: readonly string[],
  dir: string,
  run: Run,
): ResolvedResource {
  const def = resourceTypes[type];
  const properties = finished.properties as Record<string, unknown>;
  const hiddenPaths: Path[] = hidden;
  for (const name of def.secretProperties ?? []) hiddenPaths.push([name]);
  const contentRefs = def.onRevisionChange === 'replace' && refs.length > 0;
  const spec = buildSpec(
    properties,
    finished.extra,
    hiddenPaths,
    run.hide,
    (name) =>
      contentRefs ? { $ref: name, revision: run.byName.get(name)?.revision ?? null } : name,
    refs.map((r) => r.path),
  );
  const revision = sha256(`${type}\n${canonicalRevisionJson(spec, def.settings)}`);
  const attributes = def.attributeValues(
    { name: qualified, properties: properties as never, revision },
    run.attributeContext,
  );
  return {
    name: qualified,
    type,
    properties: properties as never,
    spec,
    revision,
    dependsOn,
    deletionPolicy: declared.deletionPolicy,
    attributes,
    dir,
    loc: declared.loc,
    hidden: hiddenPaths,
  } as ResolvedResource;
}

/**
 * The recorded form of properties and the type's extra fields: hidden values
 * replaced by keyed digests, references by name (or, for what a workload
 * runs, by name and revision). Copies only the containers on the way to a
 * replaced value, each once.
 */
function buildSpec(
  properties: Record<string, unknown>,
  extra: Record<string, unknown>,
  hidden: readonly Path[],
  hide: (value: unknown) => Json,
  refAt: (name: string) => Json,
  refPaths: readonly Path[],
): Record<string, Json> {
  let spec: Json = { ...properties, ...extra } as Record<string, Json>;
  // Containers made here: changing them in place cannot touch the properties.
  const copies = new Set<object>([spec]);
  const replaceAt = (value: Json, path: Path, at: number, replace: (v: Json) => Json): Json => {
    if (at === path.length) return replace(value);
    const head = path[at];
    let copy: Json[] | Record<string, Json>;
    if (Array.isArray(value) && typeof head === 'number' && head < value.length) {
      copy = copies.has(value) ? value : [...value];
      copy[head] = replaceAt(value[head] as Json, path, at + 1, replace);
    } else if (isPlainObject(value) && typeof head === 'string' && Object.hasOwn(value, head)) {
      copy = copies.has(value) ? value : { ...value };
      copy[head] = replaceAt(value[head] as Json, path, at + 1, replace);
    } else {
      return value;
    }
    copies.add(copy);
    return copy;
  };
  const ref = (v: Json): Json => (typeof v === 'string' ? refAt(v) : v);
  for (const path of refPaths) spec = replaceAt(spec, path, 0, ref);
  for (const path of hidden) spec = replaceAt(spec, path, 0, hide);
  return spec as Record<string, Json>;
}

/** JSON of a value with hidden parts as keyed digests. */
function toJson(value: Value, key: Uint8Array): Json {
  if (value instanceof Hidden) return hiddenDigest(key, reveal(value.value));
  if (value instanceof Ref) return value.resource;
  if (Array.isArray(value)) return value.map((v) => toJson(v, key));
  if (isPlainObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v, key)]));
  return value as Json;
}

/** JSON for people: hidden parts as '(hidden)'. */
function displayJson(value: Value): Json {
  if (value instanceof Hidden) return '(hidden)';
  if (value instanceof Ref) return value.resource;
  if (Array.isArray(value)) return value.map(displayJson);
  if (isPlainObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, displayJson(v)]));
  return value as Json;
}
