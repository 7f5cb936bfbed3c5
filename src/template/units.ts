import { z } from 'zod';

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1m30s` → 90000; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  // exec on the one global pattern: matchAll copies the RegExp on every call,
  // and every service has several durations. A failed exec resets lastIndex.
  DURATION_PART.lastIndex = 0;
  for (let part = DURATION_PART.exec(text); part !== null; part = DURATION_PART.exec(text)) {
    const [, amount, unit] = part;
    total += Number(amount) * (UNIT_MS[unit ?? 'ms'] ?? 1);
  }
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A duration written `500ms`, `10s`, `5m`, `1h` or `1m30s`; resolves to milliseconds. */
export const duration = z
  .union([z.string(), z.number()])
  .meta({ description: 'A duration such as 500ms, 10s, 5m or 1m30s', pattern: DURATION.source })
  .transform((text, ctx) => {
    const ms = typeof text === 'string' ? parseDuration(text) : undefined;
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message:
          typeof text === 'number'
            ? `${text} has no unit; write a duration like ${text}s or ${text}ms`
            : `'${text}' is not a duration; write it like 500ms, 10s, 5m or 1m30s`,
      });
      return z.NEVER;
    }
    return ms;
  });

const MEMORY = /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T|B)?$/;
const MEMORY_UNIT: Record<string, number> = {
  B: 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

export function parseMemory(text: string): number | undefined {
  const match = MEMORY.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (MEMORY_UNIT[match[2] ?? 'B'] ?? 1));
}

/** Memory written `128Mi`, `1Gi`, `512M` or a byte count; resolves to bytes. */
export const memory = z
  .union([z.string(), z.number().int().positive()])
  .meta({ description: 'Memory such as 128Mi, 1Gi, 500M, or a number of bytes' })
  .transform((value, ctx) => {
    const bytes = typeof value === 'number' ? value : parseMemory(value);
    if (bytes === undefined || bytes <= 0) {
      ctx.addIssue({
        code: 'custom',
        message: `'${value}' is not an amount of memory; write it like 128Mi, 1Gi or 500M`,
      });
      return z.NEVER;
    }
    return bytes;
  });

/** CPU as cores (`0.5`) or millicores (`500m`); resolves to cores. */
export const cpu = z
  .union([z.number().positive(), z.string()])
  .meta({ description: 'CPU cores such as 0.5, or millicores such as 500m' })
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(value);
    const cores = match ? Number(match[1]) / (match[2] === 'm' ? 1000 : 1) : NaN;
    if (!(cores > 0)) {
      ctx.addIssue({
        code: 'custom',
        message: `'${value}' is not a CPU amount; write 0.5 or 500m`,
      });
      return z.NEVER;
    }
    return cores;
  });
