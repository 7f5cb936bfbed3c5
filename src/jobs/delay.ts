/**
 * Waits `ms`; true when the time passed, false as soon as `signal` aborts.
 * It never rejects, so a wait that lost a race needs no handler.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Resolves true when `signal` aborts, false when `until` aborts first (which
 * also removes the listener: a long-lived signal must not collect them).
 */
export function aborted(signal: AbortSignal | undefined, until: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  if (until.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean): void => {
      signal?.removeEventListener('abort', onAbort);
      until.removeEventListener('abort', onUntil);
      resolve(value);
    };
    const onAbort = (): void => done(true);
    const onUntil = (): void => done(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    until.addEventListener('abort', onUntil, { once: true });
  });
}
