/** `eastwatch tokens`: API tokens, created (shown once), listed (never shown again) and revoked. */
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from '../app/config';
import { tokensFile } from '../api/config';
import { API_ROLES, ApiRole, createToken, readTokens, revokeToken } from '../api/tokens';
import { UserError } from '../core/error-text';
import { time } from './time';

const role = (v: string): ApiRole => {
  if (!(API_ROLES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${API_ROLES.join(', ')}`);
  return v as ApiRole;
};

export function registerTokens(program: Command, config: () => Config): void {
  const tokens = program.command('tokens').description('API tokens: create (shown once, stored hashed), list, revoke');
  const file = () => {
    const cfg = config();
    return tokensFile(cfg.http, cfg.home);
  };
  tokens.command('create')
    .description('make a token and print it (the only time it is shown); the running API accepts it within a second')
    .requiredOption('--role <role>', `viewer (reads), analyst (also triages and suppresses) or admin (also inventory, feeds)`, role)
    .requiredOption('--name <name>', 'who or what holds it (shown in the audit trail)')
    .option('--expires <time>', 'when it stops working: ms since the epoch or ISO 8601', time)
    .action((o: { role: ApiRole; name: string; expires?: number }) => {
      if (!/^[\w.@-]{1,64}$/.test(o.name)) throw new UserError('--name: 1 to 64 letters, digits or . _ @ -');
      if (o.expires !== undefined && o.expires <= Date.now()) throw new UserError('--expires: that time has passed');
      const { token, entry } = createToken(file(), { name: o.name, role: o.role, ...(o.expires !== undefined ? { expiresAt: o.expires } : {}) });
      console.log(token);
      console.error(`token ${entry.id} (${entry.name}, ${entry.role}) created; store it now: it is not shown again`);
    });
  tokens.command('list')
    .description('the tokens, without their secrets')
    .action(() => {
      for (const t of readTokens(file())) console.log(`${t.id}  ${t.role.padEnd(8)} ${t.name.padEnd(24)} created ${t.created_at}${t.expires_at ? `  expires ${t.expires_at}` : ''}`);
    });
  tokens.command('revoke')
    .description('remove a token by id or name; the running API refuses it within a second')
    .argument('<token>', 'id or name')
    .action((which: string) => {
      if (!revokeToken(file(), which)) throw new UserError(`no token ${which}`);
    });
}
