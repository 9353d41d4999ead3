/**
 * Prints the `password_hash` for an MQTT user of the embedded broker. The password is read from
 * stdin, so it stays out of the shell history and the process list:
 *
 *   printf %s 'the password' | npx tsx gateway/sources/mqtt-broker/hash-password.ts
 */
import { hashPassword } from './password.ts';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const password = Buffer.concat(chunks)
  .toString('utf8')
  .replace(/\r?\n$/, '');
if (password === '') {
  process.stderr.write('usage: printf %s PASSWORD | npx tsx gateway/sources/mqtt-broker/hash-password.ts\n');
  process.exit(2);
}
process.stdout.write(`${await hashPassword(password)}\n`);
