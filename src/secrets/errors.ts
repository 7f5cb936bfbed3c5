import { DroverError } from '../errors.js';

export type SecretErrorCode =
  /** Not something `seal` produced: wrong shape, bad base64url, wrong lengths. */
  | 'SECRET_MALFORMED'
  /** A format version this Drover does not know (sealed by a newer one?). */
  | 'SECRET_VERSION'
  /** Sealed with another key (another home, or the key file was replaced). */
  | 'SECRET_WRONG_KEY'
  /** Authentication failed: the value was changed, or it was sealed for another place (aad). */
  | 'SECRET_UNAUTHENTIC'
  /** The opened value is not JSON (openJson), or the value given to sealJson has no JSON form. */
  | 'SECRET_NOT_JSON'
  /** The key file is missing (and may not be made), has the wrong size, or others can read it. */
  | 'SECRET_KEY_MISSING'
  | 'SECRET_KEY_INVALID'
  | 'SECRET_KEY_MODE'
  | 'SECRET_KEY_WRITE';

/**
 * Every failure of this layer. Messages never hold a plaintext, a sealed
 * value or a key: they may end up in logs, events and API answers.
 */
export class SecretError extends DroverError {
  declare readonly code: SecretErrorCode;

  // Not useless: it narrows `code` to this layer's codes.
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor
  constructor(code: SecretErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
