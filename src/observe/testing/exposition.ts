/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for
 * tests: it fails where Prometheus would, and on what promtool's linter
 * flags as broken (a family declared twice, samples without a TYPE, a
 * family's samples split up, a sample repeated, a histogram whose buckets
 * are not cumulative or lack +Inf, or whose count is not its +Inf bucket).
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  readonly help?: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export class ExpositionError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'ExpositionError';
  }
}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family & { helped: boolean; typed: boolean }>();
  const finished = new Set<string>();
  let current: string | undefined;
  const seen = new Set<string>();
  const enter = (n: number, name: string): Family & { helped: boolean; typed: boolean } => {
    if (current !== name) {
      if (finished.has(name)) throw new ExpositionError(n, `${name} appears again after others`);
      if (current !== undefined) finished.add(current);
      current = name;
    }
    let family = families.get(name);
    if (family === undefined) {
      family = { name, type: 'untyped', samples: [], helped: false, typed: false };
      families.set(name, family);
    }
    return family;
  };
  const lines = text.split('\n');
  if (text !== '' && !text.endsWith('\n'))
    throw new ExpositionError(lines.length, 'no final newline');
  lines.forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (match === null) return; // an ordinary comment
      const [, keyword, name, rest] = match as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new ExpositionError(n, `bad metric name ${name}`);
      const family = enter(n, name);
      if (keyword === 'HELP') {
        if (family.helped) throw new ExpositionError(n, `second HELP for ${name}`);
        family.helped = true;
        (family as { help?: string }).help = rest;
      } else {
        if (family.typed) throw new ExpositionError(n, `second TYPE for ${name}`);
        if (family.samples.length > 0)
          throw new ExpositionError(n, `TYPE of ${name} after samples`);
        if (!TYPES.has(rest)) throw new ExpositionError(n, `bad type ${rest}`);
        family.typed = true;
        (family as { type: Family['type'] }).type = rest as Family['type'];
      }
      return;
    }
    const sample = parseSample(n, line);
    const familyName = familyOf(sample.name, families);
    if (!families.get(familyName)?.typed)
      throw new ExpositionError(n, `${sample.name} has no TYPE line before it`);
    const family = enter(n, familyName);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new ExpositionError(n, `sample repeated: ${line}`);
    seen.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return name;
}

function parseSample(n: number, line: string): Sample {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
  if (match === null) throw new ExpositionError(n, `not a sample: ${line}`);
  const [, name, rawLabels, rawValue] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
  ];
  const labels: Record<string, string> = {};
  if (rawLabels !== undefined) {
    let rest = rawLabels.slice(1, -1);
    while (rest !== '') {
      const m = /^([^=\s]+)="((?:[^"\\]|\\.)*)"\s*(,\s*)?/.exec(rest);
      if (m === null) throw new ExpositionError(n, `bad labels: ${rawLabels}`);
      const [whole, label, escaped, comma] = m as unknown as [
        string,
        string,
        string,
        string | undefined,
      ];
      if (!LABEL.test(label)) throw new ExpositionError(n, `bad label name ${label}`);
      if (label in labels) throw new ExpositionError(n, `label ${label} twice`);
      let badEscape = false;
      labels[label] = escaped.replace(/\\(.)/g, (_, c: string) => {
        if (c === 'n') return '\n';
        if (c !== '\\' && c !== '"') badEscape = true;
        return c;
      });
      if (badEscape) throw new ExpositionError(n, `bad escape in ${escaped}`);
      rest = rest.slice(whole.length);
      if (comma === undefined && rest !== '')
        throw new ExpositionError(n, `bad labels: ${rawLabels}`);
    }
  }
  const value = parseValue(rawValue);
  if (value === undefined) throw new ExpositionError(n, `bad value ${rawValue}`);
  return { name, labels, value };
}

/** As Prometheus reads them (Go's ParseFloat): NaN and Inf in any case, as prom-client writes "Nan". */
function parseValue(raw: string): number | undefined {
  if (/^\+?inf(inity)?$/i.test(raw)) return Infinity;
  if (/^-inf(inity)?$/i.test(raw)) return -Infinity;
  if (/^nan$/i.test(raw)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  const keyOf = (labels: Readonly<Record<string, string>>): string =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  for (const s of family.samples) {
    const key = keyOf(s.labels);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { buckets: [] }));
    if (s.name.endsWith('_bucket')) {
      const le = s.labels['le'];
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      group.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (s.name.endsWith('_count')) group.count = s.value;
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++)
      if ((sorted[i]?.[1] ?? 0) < (sorted[i - 1]?.[1] ?? 0))
        throw new Error(`${family.name}${key}: buckets are not cumulative`);
    if (group.count !== sorted.at(-1)?.[1])
      throw new Error(`${family.name}${key}: _count is not the +Inf bucket`);
  }
}

/** The sum of a family's samples (or of one of its series, e.g. `_count`) whose labels include `match`. */
export function total(
  families: Map<string, Family>,
  name: string,
  match: Readonly<Record<string, string>> = {},
  sampleName = name,
): number {
  const family = families.get(name);
  if (family === undefined) throw new Error(`no metric family ${name}`);
  return family.samples
    .filter(
      (s) => s.name === sampleName && Object.entries(match).every(([k, v]) => s.labels[k] === v),
    )
    .reduce((sum, s) => sum + s.value, 0);
}
