import { DroverError } from '../errors.js';

/** Base class of proxy failures; `code` is stable and machine-readable. */
export class ProxyError extends DroverError {}

export class ListenError extends ProxyError {
  constructor(address: string, options?: { cause?: unknown }) {
    super(
      'PROXY_LISTEN',
      `the proxy cannot listen on ${address}: ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}`,
      options,
    );
  }
}
