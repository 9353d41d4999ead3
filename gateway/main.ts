/**
 * Process entry of the gateway: runs the CLI and sets the exit code. `bin/siem-gateway.js` loads
 * it through tsx from the sources; `npm run build:gateway` bundles it into one plain JS file.
 */
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2));
