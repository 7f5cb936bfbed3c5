export { DEFAULT_MODE, readCurrent, removeStaleTemps, writeFileAtomic } from './atomic-write.js';
export type { CompiledTemplate } from './compile.js';
export { checkTemplate, compileTemplate } from './compile.js';
export type { RenderContext } from './context.js';
export { isServing, renderContext } from './context.js';
export {
  DestinationWriteError,
  RegistryFollowError,
  ReloadError,
  ReloadTimeoutError,
  RendererOptionsError,
  RenderError,
  RendererStateError,
  TemplateRenderError,
  TemplateSyntaxError,
} from './errors.js';
export type { RenderEvent, RenderEventType, RenderPhase } from './events.js';
export type { ReloadOptions } from './reload.js';
export { runReload } from './reload.js';
export type { ConfigTemplateRendererOptions } from './renderer.js';
export { ConfigTemplateRenderer } from './renderer.js';
export type { RetryPolicy } from './trigger.js';
