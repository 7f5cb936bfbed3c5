export { EngineError, InvalidTemplateError, NotFoundError, StackNameError } from './errors.js';
export { loadKey } from './keys.js';
export type { StackRequest, ValidateResult } from './plan.js';
export { planStackFile, validateStack } from './plan.js';
export { readRecordedState, stackKeys, writeRecordedState } from './records.js';
export { locateStack } from './stack-file.js';
export type * from './types.js';
