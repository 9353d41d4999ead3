#!/usr/bin/env node
// Entry point of the siem-gateway command: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../gateway/cli.ts');
process.exitCode = await main(process.argv.slice(2));
