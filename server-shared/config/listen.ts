/**
 * The `listen` address format of every server in the configs (gateway sources, the gateway's and
 * central's HTTP): `host:port` or `[v6]:port`; port 0 asks the OS for a free port (tests use it).
 */
import { z } from 'zod';

export const listenSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port');

export function parseListen(listen: string): { host: string; port: number } {
  const idx = listen.lastIndexOf(':');
  const host = listen.slice(0, idx).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(idx + 1)) };
}
