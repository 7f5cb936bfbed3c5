export type { SecretErrorCode } from './errors.js';
export { SecretError } from './errors.js';
export { HIDDEN, MIN_SECRET_LENGTH, Redactor } from './redactor.js';
export type { Sealer } from './sealer.js';
export { createSealer, openSealer, SECRETS_KEY_NAME } from './sealer.js';
