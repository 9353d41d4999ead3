/**
 * The gateway's `AuthStore` (server-shared/web-auth/types.ts): users and API tokens as JSON files
 * (mode 0600) in `<data_dir>/auth/`, held in memory and rewritten atomically (temp file, fsync,
 * rename) on every change; sessions, which change at every login and every use, in an append-only
 * log compacted as it grows (session-log.ts); the audit log as NDJSON, appended, and bounded: past
 * `maxAuditBytes` the file becomes `audit.1.ndjson` (the previous one is dropped), so a gateway
 * on an SD card keeps at most twice that. On a full disk, users and tokens refuse changes, while
 * sessions stay usable in memory (their write failure is reported).
 */
import { appendFile, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { openSessionLog } from './session-log.ts';
import type {
  ApiTokenRecord,
  AuditEntry,
  AuditInput,
  AuditQuery,
  AuthStore,
  SessionRecord,
  UserRecord,
} from '../../server-shared/web-auth/types.ts';

export interface FileAuthStoreOptions {
  /** The directory (created 0700): `<data_dir>/auth`. */
  dir: string;
  maxAuditBytes?: number;
  /** A failed write of sessions (full disk): they stay valid in memory, the failure is reported here. */
  onError?: (error: Error) => void;
  /** Compact the sessions log past this many lines (default 1000). */
  sessionLogCompactLines?: number;
}

const DATE_KEYS = new Set(['created_at', 'updated_at', 'last_seen_at', 'expires_at', 'last_used_at', 'ts']);
const revive = (key: string, value: unknown) =>
  DATE_KEYS.has(key) && typeof value === 'string' ? new Date(value) : value;

async function readJson<T>(file: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8'), revive) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw new Error(`${file} is unreadable: ${(error as Error).message}`, { cause: error });
  }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

export async function openFileAuthStore(options: FileAuthStoreOptions): Promise<AuthStore> {
  const { dir } = options;
  const maxAuditBytes = options.maxAuditBytes ?? 4 * 1024 * 1024;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = {
    users: path.join(dir, 'users.json'),
    sessions: path.join(dir, 'sessions.log'),
    legacySessions: path.join(dir, 'sessions.json'),
    tokens: path.join(dir, 'tokens.json'),
    lockouts: path.join(dir, 'lockouts.json'),
    audit: path.join(dir, 'audit.ndjson'),
    auditOld: path.join(dir, 'audit.1.ndjson'),
  };
  const users = new Map((await readJson<UserRecord[]>(files.users, [])).map((u) => [u.username, u]));
  const sessionLog = await openSessionLog({
    file: files.sessions,
    legacyFile: files.legacySessions,
    compactAfterLines: options.sessionLogCompactLines,
  });
  const sessions = sessionLog.sessions;
  // Sessions are worth keeping across a restart but not worth refusing a login over (full disk).
  const kept = (write: Promise<void>) => write.catch((error: Error) => options.onError?.(error));
  const removeSessions = async (pred: (s: SessionRecord) => boolean) => {
    const ids = [...sessions.values()].filter(pred).map((s) => s.id_sha256);
    await kept(sessionLog.remove(ids));
    return ids.length;
  };
  const tokens = new Map((await readJson<ApiTokenRecord[]>(files.tokens, [])).map((t) => [t.id, t]));
  /** Login lockouts: key → end (ms). */
  const lockouts = new Map(
    Object.entries(await readJson<Record<string, number>>(files.lockouts, {})).filter(
      ([, until]) => typeof until === 'number',
    ),
  );

  const readAudit = async (file: string): Promise<AuditEntry[]> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return [];
    }
    const out: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line, revive) as AuditEntry);
      } catch {
        // A torn last line after a crash: skipped, the rest stays readable.
      }
    }
    return out;
  };
  const lastEntries = [...(await readAudit(files.auditOld)), ...(await readAudit(files.audit))];
  let nextAuditId = (lastEntries.at(-1)?.id ?? 0) + 1;

  // One write at a time per file, in call order; each change resolves once it is on disk.
  const chains = new Map<string, Promise<void>>();
  const serial = (key: string, job: () => Promise<void>) => {
    const next = (chains.get(key) ?? Promise.resolve()).then(job, job);
    chains.set(key, next);
    return next;
  };
  const save = (which: 'users' | 'tokens' | 'lockouts') =>
    serial(which, () => {
      if (which === 'lockouts')
        return writeAtomic(files.lockouts, JSON.stringify(Object.fromEntries(lockouts)));
      const values = which === 'users' ? users : tokens;
      return writeAtomic(files[which], JSON.stringify([...values.values()]));
    });

  return {
    async countUsers() {
      return users.size;
    },
    async getUser(username) {
      const u = users.get(username);
      return u && { ...u };
    },
    async listUsers() {
      return [...users.values()].sort((a, b) => a.username.localeCompare(b.username)).map((u) => ({ ...u }));
    },
    async createUser(user) {
      if (users.has(user.username)) return false;
      users.set(user.username, { ...user });
      await save('users');
      return true;
    },
    async updateUser(username, patch) {
      const u = users.get(username);
      if (!u) return undefined;
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      Object.assign(u, defined);
      await save('users');
      return { ...u };
    },
    async deleteUser(username) {
      if (!users.delete(username)) return false;
      for (const [id, t] of tokens) if (t.username === username) tokens.delete(id);
      await Promise.all([save('users'), removeSessions((s) => s.username === username), save('tokens')]);
      return true;
    },
    async lock(key, until, now) {
      for (const [k, end] of lockouts) if (end <= now.getTime()) lockouts.delete(k);
      lockouts.set(key, Math.max(lockouts.get(key) ?? 0, until.getTime()));
      await save('lockouts');
    },
    async lockedUntil(keys, now) {
      const latest = Math.max(0, ...keys.map((k) => lockouts.get(k) ?? 0));
      return latest > now.getTime() ? new Date(latest) : undefined;
    },
    async useTotpStep(username, step) {
      const u = users.get(username);
      if (!u || u.totp_last_step >= step) return false;
      u.totp_last_step = step;
      await save('users');
      return true;
    },

    async createSession(s) {
      await kept(sessionLog.put(s));
    },
    async getSession(id) {
      const s = sessions.get(id);
      return s && { ...s };
    },
    async touchSession(id, at) {
      await kept(sessionLog.touch(id, at));
    },
    async deleteSession(id) {
      await kept(sessionLog.remove([id]));
    },
    async deleteUserSessions(username, keep) {
      return removeSessions((s) => s.username === username && s.id_sha256 !== keep);
    },
    async deleteExpiredSessions(lastSeenBefore, createdBefore) {
      return removeSessions(
        (s) =>
          s.last_seen_at.getTime() < lastSeenBefore.getTime() ||
          s.created_at.getTime() < createdBefore.getTime(),
      );
    },
    async trimUserSessions(username, keep) {
      const newestFirst = [...sessions.values()]
        .filter((s) => s.username === username)
        .sort(
          (a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id_sha256 < b.id_sha256 ? 1 : -1),
        );
      const drop = new Set(newestFirst.slice(keep).map((s) => s.id_sha256));
      return removeSessions((s) => drop.has(s.id_sha256));
    },

    async createToken(t) {
      tokens.set(t.id, { ...t, scopes: [...t.scopes] });
      await save('tokens');
    },
    async findToken(digest) {
      for (const t of tokens.values()) if (t.token_sha256 === digest) return { ...t };
      return undefined;
    },
    async listTokens(username) {
      return [...tokens.values()]
        .filter((t) => username === undefined || t.username === username)
        .sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id))
        .map((t) => ({ ...t }));
    },
    async deleteToken(id, username) {
      const t = tokens.get(id);
      if (!t || (username !== undefined && t.username !== username)) return false;
      tokens.delete(id);
      await save('tokens');
      return true;
    },
    async touchToken(id, at) {
      const t = tokens.get(id);
      if (!t) return;
      t.last_used_at = at;
      await save('tokens');
    },

    appendAudit(e: AuditInput) {
      const entry: AuditEntry = { ...e, detail: e.detail ?? null, id: nextAuditId++ };
      return serial('audit', async () => {
        const size = await stat(files.audit).then(
          (s) => s.size,
          () => 0,
        );
        if (size >= maxAuditBytes) await rename(files.audit, files.auditOld);
        await appendFile(files.audit, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      });
    },
    async listAudit(q: AuditQuery) {
      await chains.get('audit');
      const all = [...(await readAudit(files.auditOld)), ...(await readAudit(files.audit))];
      const out: AuditEntry[] = [];
      for (let i = all.length - 1; i >= 0 && out.length < q.limit; i--) {
        const e = all[i]!;
        if (q.before !== undefined && e.id >= q.before) continue;
        if (q.actor !== undefined && e.actor !== q.actor) continue;
        if (q.action !== undefined && e.action !== q.action) continue;
        out.push(e);
      }
      return out;
    },
    async close() {
      await sessionLog.flush();
      await Promise.all([...chains.values()].map((p) => p.catch(() => undefined)));
    },
  };
}
