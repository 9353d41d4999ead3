#!/usr/bin/env node
// Entry point of the siem-central command: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../central/cli.ts');
process.exitCode = await main(process.argv.slice(2));
