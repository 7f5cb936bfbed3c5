import type { Command } from 'commander';
import { Option } from 'commander';
import { createColors } from 'picocolors';

import type { Role } from '../../api/index.js';
import { roles } from '../../api/index.js';
import type { TokenInfo } from '../api-client.js';
import type { CliContext } from '../context.js';
import { useColor } from '../context.js';
import type { DaemonOptions } from '../daemon.js';
import { daemonClient, withApiOption } from '../daemon.js';
import { exitCodes } from '../exit-codes.js';
import type { OutputOptions } from '../output.js';
import { printData, withOutputOption } from '../output.js';
import { shortTime, table } from '../table.js';

interface CreateOptions extends DaemonOptions, OutputOptions {
  readonly role: Role;
  readonly name?: string;
}

/** `drover token create|list|revoke`: API tokens, for admins. */
export function tokenCommand(
  program: Command,
  ctx: CliContext,
  done: (code: number) => void,
): void {
  const token = program
    .command('token')
    .description('manage API tokens (needs an admin token): create, list, revoke');

  const create = token
    .command('create')
    .description('create a token and print it, once: the daemon keeps only its hash')
    .addOption(
      new Option(
        '--role <role>',
        'viewer reads; deployer also plans, applies, destroys and rolls back; admin also manages tokens',
      )
        .choices(roles)
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'who the token acts as in history and audit (default: role and id)');
  withApiOption(withOutputOption(create, 'the new token')).action(
    async (options: CreateOptions) => {
      const client = daemonClient(ctx, program.opts(), options);
      const created = await client.createToken({
        role: options.role,
        ...(options.name === undefined ? {} : { name: options.name }),
      });
      printData(ctx, options, created, () => {
        const c = createColors(useColor(ctx, program.opts()));
        return [
          `Created ${created.role} token ${created.id} (${created.name}). It is shown this once; keep it safe:`,
          '',
          `  ${c.bold(created.token)}`,
          '',
          'Use it with:',
          `  export DROVER_TOKEN=${created.token}`,
          `Revoke it with: drover token revoke ${created.id}`,
          '',
        ].join('\n');
      });
      done(exitCodes.ok);
    },
  );

  const list = token
    .command('list')
    .description('list the tokens: id, name, role, when and by whom (never a secret)');
  withApiOption(withOutputOption(list, 'the tokens')).action(
    async (options: DaemonOptions & OutputOptions) => {
      const client = daemonClient(ctx, program.opts(), options);
      const tokens = await client.tokens();
      printData(ctx, options, tokens, () => tokenTable(tokens));
      done(exitCodes.ok);
    },
  );

  const revoke = token
    .command('revoke')
    .description('revoke a token: from now on the daemon refuses it (a token cannot revoke itself)')
    .argument('<id>', 'the token id (drover token list)');
  withApiOption(withOutputOption(revoke, 'the revoked token')).action(
    async (id: string, options: DaemonOptions & OutputOptions) => {
      const client = daemonClient(ctx, program.opts(), options);
      const { revoked } = await client.revokeToken(id);
      printData(
        ctx,
        options,
        revoked,
        () => `Revoked ${revoked.role} token ${revoked.id} (${revoked.name}).\n`,
      );
      done(exitCodes.ok);
    },
  );
}

function tokenTable(tokens: readonly TokenInfo[]): string {
  if (tokens.length === 0) return 'No tokens.\n';
  const rows = tokens.map((t) => [t.id, t.name, t.role, shortTime(t.createdAt), t.createdBy]);
  return table(['ID', 'NAME', 'ROLE', 'CREATED', 'BY'], rows);
}
