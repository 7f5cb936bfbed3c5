import type { CliContext } from './context.js';

/** Runs `task` until Ctrl-C (or the context's signal), which ends it quietly. */
export async function untilInterrupted(
  ctx: CliContext,
  task: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const interrupt = (): void => stop.abort();
  process.once('SIGINT', interrupt);
  ctx.signal?.addEventListener('abort', interrupt, { once: true });
  if (ctx.signal?.aborted) stop.abort();
  try {
    await task(stop.signal);
  } finally {
    process.off('SIGINT', interrupt);
    ctx.signal?.removeEventListener('abort', interrupt);
  }
}
