import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

import type { z } from 'zod';

import { sha256 } from './canonical.js';
import type { CompileScope } from './compile.js';
import { compile } from './compile.js';
import type { Diagnostic, ErrorCode, Loc } from './errors.js';
import { Diagnostics } from './errors.js';
import type { Expr } from './expr.js';
import { conditionRefs, resourceRefs } from './expr.js';
import { functionNames } from './function-names.js';
import { findCycles } from './graph.js';
import { treeLocator } from './locator.js';
import type { ParameterDecl } from './sections.js';
import {
  mappingSchema,
  NAME,
  outputEntrySchema,
  parameterSchema,
  resourceEntrySchema,
  templateVersions,
  topLevelSchema,
} from './sections.js';
import type { MapEntry, MapNode, Node } from './source.js';
import { entryOf, MAX_TEMPLATE_BYTES, parseSource, toPlain, toShallow } from './source.js';
import { didYouMean, listOf } from './suggest.js';
import {
  isNestedStackType,
  isResourceType,
  resourceTypeNames,
  resourceTypes,
} from './types/index.js';
import { reportIssues } from './zod-issues.js';

export interface TemplateParameter {
  readonly name: string;
  readonly decl: ParameterDecl;
  readonly loc: Loc;
  /** Where the default is written, when there is one. */
  readonly defaultLoc?: Loc;
}

export interface TemplateResource {
  readonly name: string;
  readonly type: string;
  readonly loc: Loc;
  readonly typeLoc: Loc;
  /** The properties as checked expressions (a `map`, or `bad`). */
  readonly properties: Expr;
  /** The `properties:` key (or the resource's name when there is none). */
  readonly propertiesLoc: Loc;
  readonly dependsOn: readonly { name: string; loc: Loc }[];
  /** Every resource this one refers to: in properties (both sides of an `if`), its condition, depends_on. */
  readonly references: readonly { name: string; loc: Loc }[];
  readonly condition?: Expr;
  readonly deletionPolicy: 'delete' | 'retain';
  /** False when the type is unknown (already reported). */
  readonly known: boolean;
  /** For a nested stack: its template. */
  readonly nested?: Template;
}

export interface TemplateOutput {
  readonly name: string;
  readonly loc: Loc;
  readonly value: Expr;
  readonly description?: string;
  readonly condition?: Expr;
}

/** A template whose structure and functions were checked; values not yet resolved. */
export interface Template {
  /** The path as the user named it (messages use it). */
  readonly file: string;
  readonly dir: string;
  /** sha256 of the file's bytes. */
  readonly hash: string;
  readonly description?: string;
  readonly parameters: ReadonlyMap<string, TemplateParameter>;
  readonly mappings: ReadonlyMap<
    string,
    Readonly<Record<string, Readonly<Record<string, unknown>>>>
  >;
  readonly conditions: ReadonlyMap<string, { readonly loc: Loc; readonly expr: Expr }>;
  /** In declaration order. */
  readonly resources: ReadonlyMap<string, TemplateResource>;
  readonly outputs: ReadonlyMap<string, TemplateOutput>;
  /** Resources that are part of a dependency cycle (already reported). */
  readonly cyclic: ReadonlySet<string>;
}

export interface LoadResult {
  readonly template?: Template;
  readonly diagnostics: Diagnostic[];
}

/** Reads, parses and checks a template and its nested stacks; reports every problem found. */
export function loadTemplate(file: string): LoadResult {
  const diagnostics = new Diagnostics();
  const template = loadFile(file, diagnostics, [], new Map());
  return { template, diagnostics: diagnostics.list };
}

/** Checks template text that is not (necessarily) on disk; relative paths resolve from `dir`. */
export function loadTemplateText(text: string, file: string, dir: string): LoadResult {
  const diagnostics = new Diagnostics();
  const template = loadParsed(text, file, dir, diagnostics, [], new Map());
  return { template, diagnostics: diagnostics.list };
}

function loadFile(
  file: string,
  diagnostics: Diagnostics,
  chain: readonly string[],
  cache: Map<string, Template | undefined>,
): Template | undefined {
  let real: string;
  let text: string;
  try {
    real = realpathSync(file);
    const size = statSync(real).size;
    if (size > MAX_TEMPLATE_BYTES) {
      diagnostics.add(
        'TOO_LARGE',
        `the file is ${size} bytes; templates may be at most ${MAX_TEMPLATE_BYTES} bytes`,
        { file, line: 1, col: 1 },
      );
      return undefined;
    }
    if (cache.has(real)) return cache.get(real);
    text = readFileSync(real, 'utf8');
  } catch (error) {
    diagnostics.add(
      'MISSING_FILE',
      `cannot read the template: ${(error as Error).message}`,
      undefined,
      file,
    );
    return undefined;
  }
  const template = loadParsed(text, file, dirname(real), diagnostics, [...chain, real], cache);
  cache.set(real, template);
  return template;
}

function loadParsed(
  text: string,
  file: string,
  dir: string,
  diagnostics: Diagnostics,
  chain: readonly string[],
  cache: Map<string, Template | undefined>,
): Template | undefined {
  const parsed = parseSource(text, file);
  diagnostics.list.push(...parsed.diagnostics);
  const root = parsed.root;
  if (root === undefined) return undefined;
  if (root.kind !== 'map') {
    diagnostics.add('NOT_A_MAPPING', 'a template is a mapping of sections', root.loc);
    return undefined;
  }
  const checker = new SectionChecker(root, diagnostics);
  checker.checkTopLevel();

  const parameters = checker.parameters();
  const mappings = checker.mappings();
  const conditionNodes = checker.namedEntries('conditions');
  const resourceNodes = checker.namedEntries('resources');
  const outputNodes = checker.namedEntries('outputs');

  // Resource types and nested templates first: get_attr needs their attributes.
  const shapes = new Map<string, ResourceShape>();
  for (const entry of resourceNodes) {
    shapes.set(
      entry.key,
      checker.resourceShape(entry, (nestedFile, loc) => {
        const abs = resolve(dir, nestedFile);
        let real: string | undefined;
        try {
          real = realpathSync(abs);
        } catch {
          diagnostics.add('MISSING_FILE', `nested template '${nestedFile}' does not exist`, loc);
          return undefined;
        }
        if (chain.includes(real)) {
          diagnostics.add(
            'NESTED_RECURSION',
            `'${nestedFile}' includes itself: ${[...chain, real].map((p) => relative(dir, p) || '.').join(' → ')}`,
            loc,
          );
          return undefined;
        }
        return loadFile(displayPath(file, nestedFile), diagnostics, chain, cache);
      }),
    );
  }

  const scope: CompileScope = {
    diagnostics,
    dir,
    parameters: new Set(parameters.keys()),
    resources: new Map([...shapes].map(([name, s]) => [name, s.attributes])),
    conditions: new Set(conditionNodes.map((e) => e.key)),
    mappings,
  };

  const conditions = new Map<string, { loc: Loc; expr: Expr }>();
  for (const entry of conditionNodes) {
    conditions.set(entry.key, {
      loc: entry.keyLoc,
      expr: compile(entry.value, scope, 'condition'),
    });
  }
  reportConditionCycles(conditions, diagnostics);

  const resources = new Map<string, TemplateResource>();
  for (const entry of resourceNodes) {
    const shape = shapes.get(entry.key);
    if (shape === undefined) continue;
    resources.set(entry.key, checker.resource(entry, shape, scope));
  }
  const cyclic = reportResourceCycles(resources, diagnostics);

  const outputs = new Map<string, TemplateOutput>();
  for (const entry of outputNodes) {
    const output = checker.output(entry, scope);
    if (output) outputs.set(entry.key, output);
  }

  const description = entryOf(root, 'description')?.value;
  return {
    file,
    dir,
    hash: sha256(text),
    description:
      description?.kind === 'scalar' && typeof description.value === 'string'
        ? description.value
        : undefined,
    parameters,
    mappings,
    conditions,
    resources,
    outputs,
    cyclic,
  };
}

/** How a nested template is named in messages: next to its parent, as the user would write it. */
function displayPath(parentFile: string, nested: string): string {
  return join(dirname(parentFile), nested);
}

interface ResourceShape {
  readonly type: string;
  readonly known: boolean;
  readonly attributes: readonly string[] | undefined;
  readonly nested?: Template;
}

class SectionChecker {
  constructor(
    private readonly root: MapNode,
    private readonly diagnostics: Diagnostics,
  ) {}

  private check<T>(
    schema: z.ZodType<T>,
    node: Node,
    options: { unknownKeyCode?: ErrorCode; keyNoun?: string; depth?: number } = {},
  ): T | undefined {
    // Entries whose deeper values are checked elsewhere are copied only as deep as needed.
    const input = options.depth === undefined ? toPlain(node) : toShallow(node, options.depth);
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    reportIssues(result.error.issues, {
      schema,
      locator: treeLocator(node),
      input,
      diagnostics: this.diagnostics,
      literalOnly: true,
      ...options,
    });
    return undefined;
  }

  checkTopLevel(): void {
    const version = entryOf(this.root, 'drover_template_version');
    if (version === undefined) {
      this.diagnostics.add(
        'VERSION_MISSING',
        `drover_template_version is required (this Drover reads ${listOf([...templateVersions])})`,
        this.root.loc,
      );
    } else {
      const v = version.value.kind === 'scalar' ? String(version.value.value) : undefined;
      if (v === undefined || !(templateVersions as readonly string[]).includes(v)) {
        this.diagnostics.add(
          'VERSION_UNKNOWN',
          `unknown template version ${v === undefined ? '(not a scalar)' : `'${v}'`}; this Drover reads ${listOf([...templateVersions])}`,
          version.value.loc,
        );
      }
    }
    if (plainTopLevel(this.root)) return;
    this.check(topLevelSchema, this.root, {
      unknownKeyCode: 'UNKNOWN_SECTION',
      keyNoun: 'section',
      depth: 2,
    });
  }

  /** Entries of a section, with invalid names reported. */
  namedEntries(section: string): MapEntry[] {
    const node = entryOf(this.root, section)?.value;
    if (node?.kind !== 'map') return [];
    return node.entries.filter((e) => {
      if (NAME.test(e.key)) return true;
      this.diagnostics.add(
        'INVALID_NAME',
        `'${e.key}' is not a valid name: use letters, digits, '_' and '-', starting with a letter or '_'`,
        e.keyLoc,
      );
      return false;
    });
  }

  /** Literal-only places (defaults, mappings) must not hold function calls. */
  private rejectFunctions(node: Node, where: string): boolean {
    if (node.kind === 'seq') return node.items.every((item) => this.rejectFunctions(item, where));
    if (node.kind !== 'map') return true;
    const [only] = node.entries;
    if (node.entries.length === 1 && only !== undefined && functionNames.has(only.key)) {
      this.diagnostics.add(
        'FUNCTION_NOT_ALLOWED',
        `${where} are literal values; '${only.key}' cannot be used here`,
        only.keyLoc,
      );
      return false;
    }
    return node.entries.every((e) => this.rejectFunctions(e.value, where));
  }

  parameters(): Map<string, TemplateParameter> {
    const out = new Map<string, TemplateParameter>();
    for (const entry of this.namedEntries('parameters')) {
      const defaultNode =
        entry.value.kind === 'map' ? entryOf(entry.value, 'default')?.value : undefined;
      if (defaultNode !== undefined && !this.rejectFunctions(defaultNode, 'parameter defaults'))
        continue;
      const decl = this.check(parameterSchema, entry.value);
      if (decl === undefined) continue;
      out.set(entry.key, {
        name: entry.key,
        decl,
        loc: entry.keyLoc,
        defaultLoc: defaultNode?.loc,
      });
    }
    return out;
  }

  mappings(): Map<string, Record<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, Record<string, unknown>>>();
    for (const entry of this.namedEntries('mappings')) {
      if (!this.rejectFunctions(entry.value, 'mappings')) continue;
      const table = this.check(mappingSchema, entry.value);
      if (table !== undefined) out.set(entry.key, table);
    }
    return out;
  }

  resourceShape(
    entry: MapEntry,
    loadNested: (path: string, loc: Loc) => Template | undefined,
  ): ResourceShape {
    const typeNode = entry.value.kind === 'map' ? entryOf(entry.value, 'type')?.value : undefined;
    const type =
      typeNode?.kind === 'scalar' && typeof typeNode.value === 'string' ? typeNode.value : '';
    if (isResourceType(type)) return { type, known: true, attributes: attributeNames.get(type) };
    if (typeNode !== undefined && isNestedStackType(type)) {
      const nested = loadNested(type, typeNode.loc);
      return {
        type,
        known: nested !== undefined,
        attributes: nested ? [...nested.outputs.keys()] : undefined,
        nested,
      };
    }
    if (typeNode !== undefined && type !== '') {
      this.diagnostics.add(
        'UNKNOWN_TYPE',
        `unknown resource type '${type}'${didYouMean(type, resourceTypeNames)}; types are ${listOf(resourceTypeNames)}, or a relative path to a nested template (.yaml, .json)`,
        typeNode.loc,
      );
    }
    return { type, known: false, attributes: undefined };
  }

  resource(entry: MapEntry, shape: ResourceShape, scope: CompileScope): TemplateResource {
    const node = entry.value;
    const parsed = plainResourceEntry(node) ?? this.check(resourceEntrySchema, node, { depth: 2 });
    const props = node.kind === 'map' ? entryOf(node, 'properties') : undefined;
    const dependsNode = node.kind === 'map' ? entryOf(node, 'depends_on')?.value : undefined;
    const conditionNode = node.kind === 'map' ? entryOf(node, 'condition')?.value : undefined;

    const dependsOn: { name: string; loc: Loc }[] = [];
    const dependsItems =
      dependsNode?.kind === 'seq' ? dependsNode.items : dependsNode ? [dependsNode] : [];
    for (const item of dependsItems) {
      if (item.kind !== 'scalar' || typeof item.value !== 'string') continue;
      if (!scope.resources.has(item.value)) {
        this.diagnostics.add(
          'MISSING_RESOURCE',
          `depends_on names no resource '${item.value}'${didYouMean(item.value, scope.resources.keys())}`,
          item.loc,
        );
      } else if (item.value === entry.key) {
        this.diagnostics.add('CYCLE', `'${entry.key}' depends on itself`, item.loc);
      } else {
        dependsOn.push({ name: item.value, loc: item.loc });
      }
    }
    if (shape.nested) this.checkNestedProperties(entry, props, shape.nested);

    const condition = conditionNode ? compile(conditionNode, scope, 'condition') : undefined;
    const properties =
      props === undefined
        ? ({ kind: 'map', loc: node.loc, entries: [] } as Expr)
        : props.value.kind === 'map'
          ? compile(props.value, scope)
          : ({ kind: 'bad', loc: node.loc } as Expr);
    const references = resourceRefs(properties);
    if (condition) resourceRefs(condition, references);
    references.push(...dependsOn);
    return new LoadedResource(entry, props, {
      type: shape.type,
      properties,
      dependsOn,
      references,
      condition,
      deletionPolicy: parsed?.deletion_policy ?? 'delete',
      known: shape.known,
      nested: shape.nested,
    });
  }

  /** A nested stack's properties are its parameters: no unknown ones, none required missing. */
  private checkNestedProperties(
    entry: MapEntry,
    props: MapEntry | undefined,
    nested: Template,
  ): void {
    const given = props?.value.kind === 'map' ? props.value.entries : [];
    const names = [...nested.parameters.keys()];
    for (const p of given) {
      if (!nested.parameters.has(p.key)) {
        this.diagnostics.add(
          'UNKNOWN_PROPERTY',
          `nested template ${nested.file} has no parameter '${p.key}'${didYouMean(p.key, names)}`,
          p.keyLoc,
        );
      }
    }
    for (const [name, param] of nested.parameters) {
      if (param.decl.default === undefined && !given.some((p) => p.key === name)) {
        this.diagnostics.add(
          'REQUIRED',
          `missing property '${name}': a parameter of ${nested.file} without a default`,
          props?.keyLoc ?? entry.keyLoc,
        );
      }
    }
  }

  output(entry: MapEntry, scope: CompileScope): TemplateOutput | undefined {
    const parsed = this.check(outputEntrySchema, entry.value, { depth: 1 });
    if (parsed === undefined || entry.value.kind !== 'map') return undefined;
    const valueNode = entryOf(entry.value, 'value')?.value;
    const conditionNode = entryOf(entry.value, 'condition')?.value;
    if (valueNode === undefined) return undefined;
    return {
      name: entry.key,
      loc: entry.keyLoc,
      value: compile(valueNode, scope),
      description: parsed.description,
      condition: conditionNode ? compile(conditionNode, scope, 'condition') : undefined,
    };
  }
}

/** Each type's attribute names, listed once rather than once per resource. */
const attributeNames: ReadonlyMap<string, readonly string[]> = new Map(
  resourceTypeNames.map((type) => [type, Object.keys(resourceTypes[type].attributes)]),
);

type ResourceFields = Omit<TemplateResource, 'name' | 'loc' | 'typeLoc' | 'propertiesLoc'>;

/** A loaded resource; its positions are looked up only if a message needs them. */
class LoadedResource implements TemplateResource {
  readonly type: string;
  readonly properties: Expr;
  readonly dependsOn: readonly { name: string; loc: Loc }[];
  readonly references: readonly { name: string; loc: Loc }[];
  readonly condition?: Expr;
  readonly deletionPolicy: 'delete' | 'retain';
  readonly known: boolean;
  readonly nested?: Template;

  constructor(
    private readonly entry: MapEntry,
    private readonly props: MapEntry | undefined,
    fields: ResourceFields,
  ) {
    this.type = fields.type;
    this.properties = fields.properties;
    this.dependsOn = fields.dependsOn;
    this.references = fields.references;
    this.condition = fields.condition;
    this.deletionPolicy = fields.deletionPolicy;
    this.known = fields.known;
    this.nested = fields.nested;
  }

  get name(): string {
    return this.entry.key;
  }

  get loc(): Loc {
    return this.entry.keyLoc;
  }

  get typeLoc(): Loc {
    const node = this.entry.value;
    return (node.kind === 'map' ? entryOf(node, 'type')?.value.loc : undefined) ?? node.loc;
  }

  get propertiesLoc(): Loc {
    return this.props?.keyLoc ?? this.entry.keyLoc;
  }
}

const sectionKeys = new Set(Object.keys(topLevelSchema.shape));

/**
 * The common case without the schema: a version, known sections only, each
 * a mapping (or empty), and a string description; such a top level cannot
 * fail it. Saves copying every resource's entry just to see that
 * `resources` is a mapping.
 */
function plainTopLevel(root: MapNode): boolean {
  if (entryOf(root, 'drover_template_version') === undefined) return false;
  return root.entries.every(({ key, value }) => {
    if (!sectionKeys.has(key)) return false;
    if (key === 'drover_template_version') return true;
    if (key === 'description') return value.kind === 'scalar' && typeof value.value === 'string';
    return value.kind === 'map' || (value.kind === 'scalar' && value.value === null);
  });
}

const entryKeys = new Set(Object.keys(resourceEntrySchema.shape));

/**
 * The common case without the schema: an entry whose keys are all known and
 * whose values have the obvious types. Anything else (including anything
 * merely unusual) goes through the schema, which has the last word and the
 * messages. Saves a copy and a schema run per resource on large stacks.
 */
function plainResourceEntry(node: Node): { deletion_policy: 'delete' | 'retain' } | undefined {
  if (node.kind !== 'map') return undefined;
  let policy: 'delete' | 'retain' = 'delete';
  let typed = false;
  for (const { key, value } of node.entries) {
    if (!entryKeys.has(key)) return undefined;
    switch (key) {
      case 'type':
        if (value.kind !== 'scalar' || typeof value.value !== 'string' || value.value === '')
          return undefined;
        typed = true;
        break;
      case 'properties':
      case 'metadata':
        if (value.kind !== 'map') return undefined;
        break;
      case 'deletion_policy':
        if (value.kind !== 'scalar' || (value.value !== 'delete' && value.value !== 'retain'))
          return undefined;
        policy = value.value;
        break;
      case 'condition':
        break;
      default:
        // description, depends_on: only the simplest shapes skip the schema.
        if (value.kind !== 'scalar' || typeof value.value !== 'string') return undefined;
    }
  }
  return typed ? { deletion_policy: policy } : undefined;
}

function reportConditionCycles(
  conditions: ReadonlyMap<string, { loc: Loc; expr: Expr }>,
  diagnostics: Diagnostics,
): void {
  const edges = new Map<string, { name: string; loc: Loc }[]>();
  for (const [name, c] of conditions) edges.set(name, conditionRefs(c.expr));
  for (const cycle of findCycles([...conditions.keys()], edges)) {
    diagnostics.add(
      'CYCLE',
      `conditions refer to each other in a circle: ${cycle.names.join(' → ')}`,
      cycle.loc,
    );
  }
}

function reportResourceCycles(
  resources: ReadonlyMap<string, TemplateResource>,
  diagnostics: Diagnostics,
): Set<string> {
  const edges = new Map<string, { name: string; loc: Loc }[]>();
  for (const [name, r] of resources) {
    const refs = r.references;
    for (const ref of refs) {
      if (ref.name === name) diagnostics.add('CYCLE', `'${name}' refers to itself`, ref.loc);
    }
    edges.set(
      name,
      refs.filter((ref) => ref.name !== name),
    );
  }
  const cyclic = new Set<string>();
  for (const cycle of findCycles([...resources.keys()], edges)) {
    diagnostics.add('CYCLE', `dependency cycle: ${cycle.names.join(' → ')}`, cycle.loc);
    for (const name of cycle.members) cyclic.add(name);
  }
  return cyclic;
}
