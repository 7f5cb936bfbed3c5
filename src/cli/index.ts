import { readFileSync } from 'node:fs';

import { Command, CommanderError } from 'commander';

import { applyCommand } from './commands/apply.js';
import { completionCommand } from './commands/completion.js';
import { destroyCommand } from './commands/destroy.js';
import { driftCommand } from './commands/drift.js';
import { eventsCommand } from './commands/events.js';
import { graphCommand } from './commands/graph.js';
import { historyCommand } from './commands/history.js';
import { logsCommand } from './commands/logs.js';
import { planCommand } from './commands/plan.js';
import { psCommand } from './commands/ps.js';
import { rollbackCommand } from './commands/rollback.js';
import { schemaCommand } from './commands/schema.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { tokenCommand } from './commands/token.js';
import { upCommand } from './commands/up.js';
import { validateCommand } from './commands/validate.js';
import type { CliContext } from './context.js';
import { reportError } from './errors.js';
import { exitCodeHelp, exitCodes } from './exit-codes.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Local commands first, then those that talk to a daemon (`serve` and `up` start one). */
const commands = [
  validateCommand,
  planCommand,
  schemaCommand,
  serveCommand,
  upCommand,
  applyCommand,
  destroyCommand,
  statusCommand,
  psCommand,
  driftCommand,
  historyCommand,
  graphCommand,
  rollbackCommand,
  eventsCommand,
  logsCommand,
  tokenCommand,
  completionCommand,
];

/** Every command, nested ones (`token create`) included. */
function everyCommand(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...everyCommand(c)]);
}

/**
 * The CLI's commands, wired to `ctx`; `done` receives a command's exit
 * status. Shell completion and the help tests read this tree.
 */
export function createProgram(ctx: CliContext, done: (code: number) => void): Command {
  const program = new Command('drover')
    .description('Drover: declarative stacks, immutable revisions, zero-downtime deploys')
    .version(version(), '-V, --version')
    .option('--home <dir>', 'state directory (default: $DROVER_HOME or ~/.drover)')
    .option('--no-color', 'never colour the output')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void ctx.stdout.write(s),
      writeErr: (s) => void ctx.stderr.write(s),
    })
    .showHelpAfterError('(run drover --help for usage)');
  for (const register of commands) register(program, ctx, done);
  program.addHelpText('after', exitCodeHelp);
  for (const command of everyCommand(program)) {
    command.exitOverride();
    // `drift` explains its own (drift is exit 1 there).
    if (command.name() !== 'drift') command.addHelpText('after', exitCodeHelp);
  }
  return program;
}

/** Runs the CLI; resolves to the exit status. Never calls process.exit, so tests can run it in-process. */
export async function main(
  argv: readonly string[],
  ctx: CliContext = {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  },
): Promise<number> {
  let status: number = exitCodes.ok;
  const program = createProgram(ctx, (code) => {
    status = code;
  });
  try {
    await program.parseAsync(argv, { from: 'node' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.invalid;
    }
    return reportError(error, ctx);
  }
}
