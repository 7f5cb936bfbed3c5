export { digestContext, listContext } from './context.js';
export type { ContextEntry } from './context.js';
export { ArtifactError, ContextError } from './errors.js';
