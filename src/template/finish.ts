import { statSync } from 'node:fs';

import { ContextError } from '../artifact/index.js';

import { insidePath, readInside } from './compile.js';
import type { Diagnostics } from './errors.js';
import type { PropertiesByType, ResourceTypeName } from './types/index.js';
import type { Locator } from './zod-issues.js';

/** Extra resolved facts some types carry into their spec. */
export interface Finished {
  /** Fields added to the spec (e.g. an artifact's content digest). */
  readonly extra: Record<string, unknown>;
  /** Replaced property values (e.g. a defaulted runtime). */
  readonly properties: unknown;
}

export interface FinishContext {
  readonly diagnostics: Diagnostics;
  /** The directory of the template that declares the resource. */
  readonly dir: string;
  readonly locator: Locator;
  /** A resolved resource by qualified name (dependencies are resolved first). */
  lookup(name: string): { type: string; properties: unknown } | undefined;
  digest(dir: string): Promise<string>;
  /** Why a Handlebars template does not compile, or undefined (see render's `checkTemplate`). */
  checkTemplate(text: string): string | undefined;
}

type Finisher<T extends ResourceTypeName> = (
  props: PropertiesByType[T],
  ctx: FinishContext,
) => Promise<Finished | undefined> | Finished | undefined;

const finishers: { [T in ResourceTypeName]?: Finisher<T> } = {
  'Drover::Artifact': async (props, ctx) => {
    const contextLoc = ctx.locator.valueLoc(['context']).loc;
    // A context stays inside the template's tree, like get_file: a template
    // cannot make Drover snapshot (and hash) an arbitrary part of the machine.
    const real = insidePath(
      props.context,
      contextLoc,
      { diagnostics: ctx.diagnostics, dir: ctx.dir },
      'context',
      'MISSING_CONTEXT',
    );
    if (real === undefined) return undefined;
    const dir = real;
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) {
      ctx.diagnostics.add(
        'MISSING_CONTEXT',
        `artifact context '${props.context}' is not a directory`,
        contextLoc,
      );
      return undefined;
    }
    if (props.dockerfile !== undefined) {
      const found = insidePath(
        props.dockerfile,
        ctx.locator.valueLoc(['dockerfile']).loc,
        { diagnostics: ctx.diagnostics, dir },
        'Dockerfile',
        'MISSING_CONTEXT',
      );
      if (found === undefined) return undefined;
    }
    try {
      return { extra: { digest: await ctx.digest(dir) }, properties: props };
    } catch (error) {
      if (!(error instanceof ContextError)) throw error;
      ctx.diagnostics.add('MISSING_CONTEXT', error.message, contextLoc);
      return undefined;
    }
  },
  'Drover::Service': withRuntime,
  'Drover::Job': withRuntime,
  'Drover::ConfigTemplate': (props, ctx) => {
    const key = props.template_file === undefined ? 'template' : 'template_file';
    const loc = () => ctx.locator.valueLoc([key]).loc;
    const content =
      props.template_file === undefined
        ? props.template
        : readInside(props.template_file, loc(), { diagnostics: ctx.diagnostics, dir: ctx.dir });
    if (content === undefined) return undefined;
    // A template that cannot compile would fail on every registry change: say so now.
    const problem = ctx.checkTemplate(content);
    if (problem !== undefined) {
      ctx.diagnostics.add(
        'INVALID_VALUE',
        `the Handlebars template does not compile: ${problem}`,
        loc(),
      );
      return undefined;
    }
    return { extra: {}, properties: { ...props, template: content } };
  },
};

/**
 * Checks the runtime against the artifact's kind and fills in the default:
 * a Dockerfile makes a Docker image, anything else a directory snapshot run
 * as processes.
 */
function withRuntime<
  P extends { artifact: string; runtime?: 'process' | 'docker'; command?: string[] },
>(props: P, ctx: FinishContext): Finished | undefined {
  const artifact = ctx.lookup(props.artifact);
  if (artifact === undefined) return { extra: {}, properties: props };
  const image = (artifact.properties as { dockerfile?: string }).dockerfile !== undefined;
  const runtime = props.runtime ?? (image ? 'docker' : 'process');
  const at = (key: string) => ctx.locator.valueLoc([key]).loc;
  if (runtime === 'docker' && !image) {
    ctx.diagnostics.add(
      'INVALID_VALUE',
      `runtime docker needs an artifact with a dockerfile; '${props.artifact}' is a directory snapshot`,
      at(props.runtime ? 'runtime' : 'artifact'),
    );
    return undefined;
  }
  if (runtime === 'process' && image) {
    ctx.diagnostics.add(
      'INVALID_VALUE',
      `runtime process runs directory snapshots; '${props.artifact}' builds a Docker image`,
      at('runtime'),
    );
    return undefined;
  }
  if (runtime === 'process' && props.command === undefined) {
    ctx.diagnostics.add(
      'REQUIRED',
      "missing required key 'command': a process runs an argv",
      ctx.locator.ownerLoc([]),
    );
    return undefined;
  }
  return { extra: {}, properties: { ...props, runtime } };
}

/**
 * Runs the type's finisher. Synchronous unless the finisher is (an artifact
 * hashes its directory): callers await only a promise, so that a large stack
 * does not pay a trip through the microtask queue for every resource.
 */
export function finishProperties(
  type: ResourceTypeName,
  props: unknown,
  ctx: FinishContext,
): Promise<Finished | undefined> | Finished | undefined {
  const finisher = finishers[type] as Finisher<ResourceTypeName> | undefined;
  if (finisher === undefined) return { extra: {}, properties: props };
  return finisher(props as never, ctx);
}
