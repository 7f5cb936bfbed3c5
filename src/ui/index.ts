export type { Dashboard } from './serve.js';
export { dashboard, STATIC_DIR } from './serve.js';
