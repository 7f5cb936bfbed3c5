import type { Command } from 'commander';
import { Option } from 'commander';
import { dump } from 'js-yaml';

import type { CliContext } from './context.js';

/** How a command prints what it found: `table` is for people; json and yaml for programs. */
export const formats = ['table', 'json', 'yaml'] as const;
export type Format = (typeof formats)[number];

export interface OutputOptions {
  readonly output?: Format;
  /** The older spelling of `-o json`, kept working. */
  readonly json?: boolean;
}

/**
 * `-o, --output table|json|yaml`, and `--json` as `-o json`; `note` says
 * what else the format changes (where progress goes, one item per line).
 */
export function withOutputOption(command: Command, what = 'the result', note = ''): Command {
  return command
    .addOption(
      new Option(
        '-o, --output <format>',
        `print ${what} as table (for people, the default), json or yaml${note === '' ? '' : `; ${note}`}`,
      ).choices(formats),
    )
    .addOption(new Option('--json', 'the same as -o json').conflicts('output'));
}

export function outputFormat(options: OutputOptions): Format {
  return options.json ? 'json' : (options.output ?? 'table');
}

/** Data as a program reads it: indented JSON, or YAML of the same data. */
export function formatData(format: 'json' | 'yaml', data: unknown): string {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  // Through JSON first, so YAML holds exactly what JSON would (no undefined, no Dates).
  return dump(JSON.parse(JSON.stringify(data)) as unknown, { noRefs: true, lineWidth: -1 });
}

/**
 * One item of a stream (`events --follow`, `logs`): a JSON object per line,
 * or a YAML document per item, each starting with `---`.
 */
export function formatItem(format: 'json' | 'yaml', item: unknown): string {
  return format === 'json' ? `${JSON.stringify(item)}\n` : `---\n${formatData('yaml', item)}`;
}

/** Prints `data` in the chosen format; `human` renders it for people (`table`). */
export function printData(
  ctx: CliContext,
  options: OutputOptions,
  data: unknown,
  human: () => string,
): void {
  const format = outputFormat(options);
  ctx.stdout.write(format === 'table' ? human() : formatData(format, data));
}
