import type { Command } from 'commander';
import { createColors } from 'picocolors';

import type { DriftFinding, DriftReport, RenderedDrift } from '../../reconcile/index.js';
import { describeChange } from '../../reconcile/index.js';
import { shortId } from '../../template/index.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, withApiOption } from '../daemon.js';
import { exitCodeMeanings, exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { printData, withOutputOption } from '../output.js';

interface DriftOptions extends DaemonOptions, OutputOptions {
  readonly stack?: string;
}

const EXIT_STATUS = `
Exit status:
  0  nothing drifted
  1  something drifted (as \`git diff --exit-code\`), or the scan failed (said on stderr)
${exitCodeMeanings
  .filter(([code]) => code >= exitCodes.invalid)
  .map(([code, meaning]) => `  ${code}  ${meaning}`)
  .join('\n')}`;

export function driftCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const command = program
    .command('drift')
    .description('instances and rendered config files changed outside Drover (scans now)')
    .option('--stack <name>', 'only this stack')
    .addHelpText('after', EXIT_STATUS);
  withOutputOption(command, 'the drift report');
  withApiOption(command).action(async (options: DriftOptions) => {
    const client = daemonClient(ctx, program.opts(), options);
    const report = await client.drift({ stack: options.stack });
    printData(ctx, options, report, () => renderDrift(report, useColor(ctx, program.opts())));
    const drifted = report.instances.length > 0 || report.rendered.length > 0;
    done(drifted ? exitCodes.drifted : exitCodes.ok);
  });
}

/** One block per drifted instance, one line per drifted rendered file; or one line saying all is well. */
function renderDrift(report: DriftReport, color: boolean): string {
  const c = createColors(color);
  if (report.instances.length === 0 && report.rendered.length === 0) {
    const n = report.scanned;
    const match = n === 1 ? 'instance matches its revision' : 'instances match their revisions';
    return `${c.green('no drift')}: ${n} ${match}\n`;
  }
  const instance = (f: DriftFinding): string => {
    const count = `${f.changes.length} change${f.changes.length === 1 ? '' : 's'}`;
    const head = `${c.bold(`${f.stack}/${f.service}`)} ${f.instance} (${f.runtime}, revision ${shortId(f.revision)}): ${c.yellow(count)}\n`;
    return head + f.changes.map((change) => `  ${describeChange(change)}\n`).join('');
  };
  const rendered = (r: RenderedDrift): string =>
    `${c.bold(`${r.stack}/${r.resource}`)}: ${r.path} ${c.yellow(r.kind)} outside Drover\n`;
  return report.instances.map(instance).join('') + report.rendered.map(rendered).join('');
}
