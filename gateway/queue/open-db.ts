/**
 * Opening the queue's LevelDB: the settings sized for a Pi, and the recovery from a corrupt
 * database (SPEC §8) that keeps the gateway starting: LevelDB's own repair first, which keeps
 * every record it can still read, else the database moved aside (kept for forensics) and a fresh
 * one created. A database locked by another process is an error, never "recovered".
 */
import { renameSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import { describeOpenError } from './records.ts';

export interface QueueRecovery {
  action: 'repaired' | 'moved_aside';
  error: string;
  movedTo?: string;
}

export async function openLevelDb(dir: string): Promise<ClassicLevel<string, string>> {
  const db = new ClassicLevel<string, string>(dir, {
    valueEncoding: 'utf8',
    // Small caches: a Pi has little RAM, and the queue is read once, in order (SPEC §2).
    cacheSize: 2 * 1024 * 1024,
    writeBufferSize: 2 * 1024 * 1024,
    // LevelDB maps every open table file into memory (up to 1,000 on 64-bit), and the pages a
    // drain reads stay resident, so RSS grew with the backlog. A small table cache bounds it.
    maxOpenFiles: 32,
  });
  await db.open();
  return db;
}

/** Runs `open` on `dir`, repairing or moving the database aside when it does not open. */
export async function openOrRecover<Q>(
  dir: string,
  open: () => Promise<Q>,
): Promise<{ queue: Q; recovery?: QueueRecovery }> {
  try {
    return { queue: await open() };
  } catch (error) {
    const message = describeOpenError(error);
    if (/lock|already held|EACCES|EPERM/i.test(message)) throw new Error(`cannot open the queue: ${message}`);
    try {
      await ClassicLevel.repair(dir);
      return { queue: await open(), recovery: { action: 'repaired', error: message } };
    } catch {
      const movedTo = `${dir}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(dir, movedTo);
      return { queue: await open(), recovery: { action: 'moved_aside', error: message, movedTo } };
    }
  }
}
