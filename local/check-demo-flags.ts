/**
 * `node --experimental-transform-types --import ./local/source-imports.ts
 * local/check-demo-flags.ts ARGS`: what scripts/demo.sh runs before it
 * installs or builds anything. Exit 0 when the demo's flags are good, else
 * their one-line error on stderr and exit 2 (local/demo-flags.ts).
 */
import {demoFlagError} from './demo-flags.js';

const error = demoFlagError(process.argv.slice(2));
if (error !== undefined) {
  process.stderr.write(`${error}\n`);
  process.exitCode = 2;
}
