#!/usr/bin/env node
// Entry point of the siem-gateway command: loads the TypeScript sources through tsx. On a gateway
// box, run the bundle from `npm run build:gateway` instead: `node dist/gateway/siem-gateway.mjs`.
import { register } from 'tsx/esm/api';

register();
await import('../gateway/main.ts');
