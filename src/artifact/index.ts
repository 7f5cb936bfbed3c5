export type { ContextEntry } from './context.js';
export { digestContext, listContext } from './context.js';
export { ArtifactError, ContextError } from './errors.js';
