import { ensureConsoleBuilt } from '../src/node/console-build';

/** Build the console (console/dist) unless it was built from the same sources: what `npm start` does first. CI runs it before the suites. */
console.log(`console: ${await ensureConsoleBuilt()}`);
