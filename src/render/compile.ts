import Handlebars from 'handlebars';

import type { RenderContext } from './context.js';
import { reasonOf, TemplateRenderError, TemplateSyntaxError } from './errors.js';
import { builtinHelperArity, ownHelpers } from './helpers.js';

/** Renders one context to the config file's text. Throws TemplateRenderError. */
export type CompiledTemplate = (context: RenderContext) => string;

/**
 * Missing values render as nothing (`strict: false`) so an optional field such
 * as `color` needs no guard, and nothing is HTML-escaped (`noEscape`): config
 * files are not HTML and `&` or `<` must come out as written.
 */
const OPTIONS = { strict: false, noEscape: true } as const;

// One environment of our own: registering helpers on the global Handlebars
// would leak them to (and from) anything else in the process using it.
const env = Handlebars.create();
env.unregisterHelper('log');
for (const [name, spec] of Object.entries(ownHelpers)) {
  env.registerHelper(name, (...args: unknown[]) => spec.fn(...args.slice(0, -1)));
}

/**
 * Why `text` is not a usable template, as `line:column: reason` (1-based), or
 * undefined when it is. Besides Handlebars syntax this catches calls to
 * helpers that do not exist, wrong argument counts and partials, which would
 * otherwise fail only when a registry change renders the template.
 */
export function checkTemplate(text: string): string | undefined {
  return findProblem(text)?.message;
}

/** Compiles a template; throws TemplateSyntaxError (see `checkTemplate`). */
export function compileTemplate(text: string): CompiledTemplate {
  const problem = findProblem(text);
  if (problem !== undefined) throw problem;
  const template = env.compile<RenderContext>(text, OPTIONS);
  return (context) => {
    try {
      return template(context);
    } catch (error) {
      if (error instanceof TemplateRenderError) throw error;
      throw new TemplateRenderError(`cannot render the template: ${reasonOf(error)}`, {
        cause: error,
      });
    }
  };
}

/**
 * Parsing finds syntax errors, mismatched block names and bad paths; the walk
 * finds what the renderer cannot honour. Handlebars' compiler finds nothing
 * more on a parsed AST without partials, so validation stops there (it is
 * the costly part for large stacks); `compileTemplate` compiles when used.
 */
function findProblem(text: string): TemplateSyntaxError | undefined {
  let program: hbs.AST.Program;
  try {
    program = env.parse(text);
  } catch (error) {
    return fromHandlebarsError(error);
  }
  return findUnsupported(program);
}

type Node = hbs.AST.Node;
type Call = hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression;

/** Walks the AST for helper calls, partials and decorators the renderer cannot honour. */
function findUnsupported(node: Node): TemplateSyntaxError | undefined {
  switch (node.type) {
    case 'Program':
      return first((node as hbs.AST.Program).body, findUnsupported);
    case 'PartialStatement':
    case 'PartialBlockStatement':
      return at(node, 'partials ({{> name}}) are not supported');
    case 'Decorator':
    case 'DecoratorBlock':
      return at(node, 'decorators ({{* name}}) are not supported');
    case 'MustacheStatement':
    case 'SubExpression':
      return checkCall(node as Call);
    case 'BlockStatement': {
      const block = node as hbs.AST.BlockStatement;
      return (
        checkCall(block) ??
        findUnsupported(block.program) ??
        (block.inverse === undefined || block.inverse === null
          ? undefined
          : findUnsupported(block.inverse))
      );
    }
    default:
      return undefined;
  }
}

function checkCall(call: Call): TemplateSyntaxError | undefined {
  const args = call.params.length;
  const hashed = (call.hash?.pairs.length ?? 0) > 0;
  const name = helperName(call.path);
  const arity = name === undefined ? undefined : arityOf(name);
  if (arity === undefined) {
    // Without arguments a name is a value lookup; with them it must be a helper.
    if (args > 0 || hashed) {
      const path = call.path as Partial<hbs.AST.PathExpression>;
      const shown = typeof path.original === 'string' ? `'${path.original}'` : 'a literal';
      return at(call.path, `${shown} is not a helper (helpers: ${helperNames().join(', ')})`);
    }
  } else if (args < arity[0] || args > arity[1]) {
    const wanted = arity[0] === arity[1] ? `${arity[0]}` : `${arity[0]} or ${arity[1]}`;
    const plural = arity[1] === 1 ? '' : 's';
    return at(call.path, `${name} takes ${wanted} argument${plural}, got ${args}`);
  }
  const values = [...call.params, ...(call.hash?.pairs.map((p) => p.value) ?? [])];
  return first(values, findUnsupported);
}

/** The name a call could resolve to a helper by: one plain identifier (not `this.x`, `../x` or `@x`). */
function helperName(path: Node): string | undefined {
  if (path.type !== 'PathExpression') return undefined;
  const { data, depth, parts, original } = path as hbs.AST.PathExpression;
  return !data && depth === 0 && parts.length === 1 ? original : undefined;
}

function arityOf(name: string): readonly [number, number] | undefined {
  const own = Object.hasOwn(ownHelpers, name) ? ownHelpers[name] : undefined;
  if (own !== undefined) return [own.minArgs, own.maxArgs];
  return Object.hasOwn(builtinHelperArity, name) ? builtinHelperArity[name] : undefined;
}

function helperNames(): string[] {
  return [...Object.keys(builtinHelperArity), ...Object.keys(ownHelpers)].sort();
}

function first<T>(items: readonly T[], check: (item: T) => TemplateSyntaxError | undefined) {
  for (const item of items) {
    const found = check(item);
    if (found !== undefined) return found;
  }
  return undefined;
}

function at(node: Node, reason: string): TemplateSyntaxError {
  return new TemplateSyntaxError(reason, node.loc.start.line, node.loc.start.column + 1);
}

/**
 * Handlebars reports compile errors as Exceptions with a position, but parse
 * errors as plain Errors whose only position is prose and ASCII art; the
 * parser's lexer still holds the offending token's location right after the
 * (synchronous) failed parse, so that is where the column comes from.
 */
function fromHandlebarsError(error: unknown): TemplateSyntaxError {
  const message = reasonOf(error);
  if (error instanceof Handlebars.Exception && typeof error.lineNumber === 'number') {
    const reason = message.replace(/ - \d+:\d+$/, '');
    const column = typeof error.column === 'number' ? error.column + 1 : 1;
    return new TemplateSyntaxError(reason, error.lineNumber, column, { cause: error });
  }
  const lines = message.split('\n');
  const lexical = /^Lexical error/.test(message);
  const reason = lexical
    ? 'unrecognized text'
    : `parse error: ${(lines.at(-1) ?? message).replace(/^Expecting/, 'expecting')}`;
  const fromMessage = Number(/on line (\d+)/.exec(message)?.[1] ?? 1);
  const loc = lexerLocation();
  return new TemplateSyntaxError(
    reason,
    loc?.first_line ?? fromMessage,
    loc === undefined ? 1 : loc.first_column + 1,
    { cause: error },
  );
}

interface LexerLocation {
  readonly first_line: number;
  readonly first_column: number;
}

function lexerLocation(): LexerLocation | undefined {
  const parser: unknown = (Handlebars as unknown as { Parser?: unknown }).Parser;
  const loc: unknown =
    typeof parser === 'object' && parser !== null && 'lexer' in parser
      ? (parser.lexer as { yylloc?: unknown } | undefined)?.yylloc
      : undefined;
  if (typeof loc !== 'object' || loc === null) return undefined;
  const { first_line: line, first_column: column } = loc as Record<string, unknown>;
  return typeof line === 'number' && typeof column === 'number'
    ? { first_line: line, first_column: column }
    : undefined;
}
