import { Diagnostics, sortDiagnostics } from './errors.js';
import { loadTemplate } from './load.js';
import type { ResolveOptions } from './resolve.js';
import { resolveStack } from './resolve.js';
import type { ResolveResult } from './resolved.js';

export {
  canonicalJson,
  contentId,
  hiddenDigest,
  isHiddenDigest,
  sha256,
  shortId,
} from './canonical.js';
export type { Diagnostic, ErrorCode, Loc } from './errors.js';
export { errorCodes, formatDiagnostic, sortDiagnostics, TemplateError } from './errors.js';
export { templateJsonSchema } from './json-schema.js';
export type { LoadResult, Template } from './load.js';
export { loadTemplate, loadTemplateText } from './load.js';
export type { ParameterInput } from './parameters.js';
export { loadParameterFile, parseParameterArgs } from './parameters.js';
export type { ResolveOptions } from './resolve.js';
export { resolveStack } from './resolve.js';
export type {
  ResolvedOutput,
  ResolvedParameter,
  ResolvedResource,
  ResolvedResourceOf,
  ResolvedStack,
  ResolveResult,
} from './resolved.js';
export { templateVersions } from './sections.js';
export type {
  ArtifactProperties,
  ConfigProperties,
  ConfigTemplateProperties,
  JobProperties,
  PropertiesByType,
  ResourceTypeDef,
  ResourceTypeName,
  RouteProperties,
  SecretProperties,
  ServiceProperties,
  VolumeProperties,
} from './types/index.js';
export { isResourceType, resourceTypeNames, resourceTypes } from './types/index.js';
export { formatDuration, parseDuration, parseMemory } from './units.js';
export type { Json, Path } from './values.js';

/**
 * Loads, checks and resolves a template file in one go: every problem of
 * every phase comes back together, sorted by file and line.
 */
export async function compileStack(file: string, options: ResolveOptions): Promise<ResolveResult> {
  const loaded = loadTemplate(file);
  const diagnostics = new Diagnostics();
  diagnostics.list.push(...loaded.diagnostics);
  if (loaded.template === undefined) {
    return { diagnostics: sortDiagnostics(diagnostics.list), requiredParameters: [] };
  }
  const resolved = await resolveStack(loaded.template, options);
  diagnostics.list.push(...resolved.diagnostics);
  const all = sortDiagnostics(diagnostics.list);
  return {
    diagnostics: all,
    requiredParameters: resolved.requiredParameters,
    stack: all.length === 0 ? resolved.stack : undefined,
  };
}
