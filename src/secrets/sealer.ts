import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

import { SecretError } from './errors.js';
import { KEY_BYTES, keyPath, loadKeyFile } from './key.js';

/** The key that seals secrets: $DROVER_HOME/keys/secrets.key. */
export const SECRETS_KEY_NAME = 'secrets';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 6;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Seals values with AES-256-GCM under one key. A sealed value is text:
 *
 *     v1.<key id>.<nonce>.<ciphertext and tag>      (parts in base64url)
 *
 * The key id (a hash of the key) tells "another key" apart from "changed".
 * `aad` binds a value to its place (e.g. its store key): a value copied to
 * another place does not open. The version and key id are authenticated too.
 */
export interface Sealer {
  /** base64url of the first bytes of sha256 of the key: names the key, reveals nothing of it. */
  readonly keyId: string;
  seal(plaintext: string | Uint8Array, aad?: string): string;
  /** The plaintext; throws SecretError when the value was changed, is for another place or key. */
  open(sealed: string, aad?: string): Buffer;
  /** Seals `JSON.stringify(value)`. */
  sealJson(value: unknown, aad?: string): string;
  /** Opens and parses; the result is whatever JSON it holds, for the caller to check. */
  openJson(sealed: string, aad?: string): unknown;
}

/**
 * The sealer of a home, with the key in $DROVER_HOME/keys/secrets.key
 * (made on first use unless `create` is false: commands that must not write).
 */
export function openSealer(home: string, options: { readonly create?: boolean } = {}): Sealer {
  const key = loadKeyFile(home, SECRETS_KEY_NAME, options.create ?? true);
  if (key === undefined) {
    throw new SecretError(
      'SECRET_KEY_MISSING',
      `no secrets key at ${keyPath(home, SECRETS_KEY_NAME)}: nothing was sealed in this home yet`,
    );
  }
  return createSealer(key);
}

/** A sealer with the given 32-byte key (tests, and keys kept elsewhere). */
export function createSealer(key: Uint8Array): Sealer {
  if (key.length !== KEY_BYTES) {
    throw new SecretError('SECRET_KEY_INVALID', `a secrets key has ${KEY_BYTES} bytes`);
  }
  // A private copy: the caller may reuse or zero its buffer.
  const secret = Buffer.from(key);
  const keyId = createHash('sha256')
    .update('drover secrets key id\0')
    .update(secret)
    .digest()
    .subarray(0, KEY_ID_BYTES)
    .toString('base64url');
  const header = `${VERSION}.${keyId}`;

  const seal = (plaintext: string | Uint8Array, aad?: string): string => {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', secret, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(header, aad));
    const data =
      typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
    const body = Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
    return `${header}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  };

  const open = (sealed: string, aad?: string): Buffer => {
    const { id, nonce, body } = parse(sealed);
    if (id !== keyId) {
      throw new SecretError(
        'SECRET_WRONG_KEY',
        `a sealed value from another key (${id}; this home's is ${keyId}): was it copied from another home, or the key file replaced?`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', secret, nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(associatedData(header, aad));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    const plain = decipher.update(body.subarray(0, body.length - TAG_BYTES));
    try {
      return Buffer.concat([plain, decipher.final()]);
    } catch (error) {
      // GCM cannot tell which: both mean the value must not be trusted.
      throw new SecretError(
        'SECRET_UNAUTHENTIC',
        `a sealed value does not open${aad === undefined ? '' : ` for '${aad}'`}: it was changed, or sealed for another place`,
        { cause: error },
      );
    }
  };

  return {
    keyId,
    seal,
    open,
    sealJson: (value, aad) => {
      const text: unknown = JSON.stringify(value);
      if (typeof text !== 'string') {
        throw new SecretError('SECRET_NOT_JSON', `cannot seal a value with no JSON form`);
      }
      return seal(text, aad);
    },
    openJson: (sealed, aad) => {
      const text = open(sealed, aad).toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // No cause on purpose: JSON.parse's message quotes the text, which is the secret.
        throw new SecretError('SECRET_NOT_JSON', 'a sealed value does not hold JSON');
      }
    },
  };
}

/** What GCM authenticates besides the plaintext: the header, then the place. */
function associatedData(header: string, aad: string | undefined): Buffer {
  // The header never holds a newline, so header and place cannot be confused.
  return Buffer.from(`${header}\n${aad ?? ''}`, 'utf8');
}

function parse(sealed: string): { id: string; nonce: Buffer; body: Buffer } {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  const [version, id, nonceText, bodyText] = parts;
  if (version === undefined || parts.length < 2 || !/^v\d+$/.test(version)) {
    throw new SecretError(
      'SECRET_MALFORMED',
      'not a sealed value (expected v1.<key>.<nonce>.<data>)',
    );
  }
  if (version !== VERSION) {
    throw new SecretError(
      'SECRET_VERSION',
      `a sealed value of format ${version}, which this Drover does not know (sealed by a newer one?)`,
    );
  }
  if (parts.length !== 4 || id === undefined) {
    throw new SecretError(
      'SECRET_MALFORMED',
      'not a sealed value (expected v1.<key>.<nonce>.<data>)',
    );
  }
  const keyId = decode(id, 'key id');
  const nonce = decode(nonceText, 'nonce');
  const body = decode(bodyText, 'data');
  if (keyId.length !== KEY_ID_BYTES || nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
    throw new SecretError('SECRET_MALFORMED', 'a sealed value with parts of the wrong length');
  }
  return { id, nonce, body };
}

/** Strict base64url: Buffer.from would skip stray characters, and a changed value must not open. */
function decode(text: string | undefined, what: string): Buffer {
  const bytes =
    text !== undefined && BASE64URL.test(text) ? Buffer.from(text, 'base64url') : undefined;
  if (bytes === undefined || bytes.toString('base64url') !== text) {
    throw new SecretError('SECRET_MALFORMED', `a sealed value whose ${what} is not base64url`);
  }
  return bytes;
}
