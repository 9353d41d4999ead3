/**
 * `siem-central user …`: manage dashboard users from the host, for when nobody can log in (the
 * only admin forgot a password, lost a TOTP device, or is locked out). It opens the configured
 * store directly, like the storage commands. A new password comes from `--password-file` (mode
 * 0600) or is generated and printed once; it never appears in arguments, where `ps` would show
 * it. Every change is written to the audit log with the actor `cli`.
 */
import { readFileSync, statSync } from 'node:fs';
import { hashPassword, type AuthStore, type Role, ROLES } from '../server-shared/web-auth/index.ts';
import { MIN_PASSWORD_LENGTH, newUserRecord, randomPassword } from '../server-shared/web-auth/password.ts';
import { createSqlAuthStore } from './auth/sql-store.ts';
import type { CentralConfig } from './config/schema.ts';
import { createStore } from './store/index.ts';

export interface UserCommandOptions {
  role?: string;
  passwordFile?: string;
  /** `user passwd`: also clear the user's TOTP (a lost device). */
  resetTotp?: boolean;
}

class UsageError extends Error {}

function readPassword(file: string | undefined): { password: string; generated: boolean } {
  if (!file) return { password: randomPassword(), generated: true };
  if ((statSync(file).mode & 0o077) !== 0)
    throw new UsageError(`${file} must not be readable by others (chmod 600)`);
  const password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  return { password, generated: false };
}

function parseRole(role: string | undefined): Role {
  const value = role ?? 'viewer';
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  }
  return value as Role;
}

async function run(
  auth: AuthStore,
  action: string,
  username: string | undefined,
  options: UserCommandOptions,
) {
  const now = new Date();
  const out: string[] = [];
  if (action === 'list') {
    for (const u of await auth.listUsers()) {
      const flags = [u.disabled && 'disabled', u.totp_enabled && 'totp', u.require_totp && 'totp-required'];
      out.push(`${u.username}\t${u.role}\t${flags.filter(Boolean).join(',') || '-'}`);
    }
    return out;
  }
  if (!username) throw new UsageError(`user ${action} needs a username`);
  if (action === 'add') {
    const role = parseRole(options.role);
    const { password, generated } = readPassword(options.passwordFile);
    const created = await auth.createUser(await newUserRecord(username, role, password, now));
    if (!created) throw new UsageError(`user ${username} exists already`);
    await auth.appendAudit({
      ts: now,
      actor: 'cli',
      action: 'user.create',
      target: username,
      address: null,
      outcome: 'ok',
      detail: { role },
    });
    out.push(`created ${username} (${role})`);
    if (generated) out.push(`password: ${password}   (shown once)`);
    return out;
  }
  if (action === 'passwd') {
    const { password, generated } = readPassword(options.passwordFile);
    const patch = {
      password_hash: await hashPassword(password),
      disabled: false,
      updated_at: now,
      ...(options.resetTotp && { totp_secret: null, totp_enabled: false }),
    };
    if (!(await auth.updateUser(username, patch))) throw new UsageError(`no user ${username}`);
    // A new password ends every session opened with the old one.
    await auth.deleteUserSessions(username);
    await auth.appendAudit({
      ts: now,
      actor: 'cli',
      action: 'user.password_reset',
      target: username,
      address: null,
      outcome: 'ok',
      detail: { totp_reset: Boolean(options.resetTotp) },
    });
    out.push(`password of ${username} reset${options.resetTotp ? ', TOTP cleared' : ''}; sessions ended`);
    if (generated) out.push(`password: ${password}   (shown once)`);
    return out;
  }
  throw new UsageError(`unknown user command ${action} (list, add, passwd)`);
}

export async function userCommand(
  config: CentralConfig,
  action: string | undefined,
  username: string | undefined,
  options: UserCommandOptions,
): Promise<number> {
  const store = await createStore(config.storage);
  try {
    await store.init(new Date());
    const lines = await run(createSqlAuthStore(store.sql), action ?? 'list', username, options);
    process.stdout.write(lines.map((l) => `${l}\n`).join(''));
    return 0;
  } catch (error) {
    process.stderr.write(`siem-central: user: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await store.close();
  }
}
