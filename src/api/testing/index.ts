export type { TestDaemon } from './daemon.js';
export { bodyLines, startTestDaemon, tempStore } from './daemon.js';
export { FakeEngine } from './fake-engine.js';
export * from './samples.js';
