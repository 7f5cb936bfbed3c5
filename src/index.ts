/** Drover's library surface: the template language, the planner and the store. */
export * as artifact from './artifact/index.js';
export * as engine from './engine/index.js';
export * as plan from './plan/index.js';
export * as proxy from './proxy/index.js';
export * as registry from './registry/index.js';
export * as runtime from './runtime/index.js';
export * as store from './store/index.js';
export * as template from './template/index.js';
