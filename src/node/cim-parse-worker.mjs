// Entry of the CIM parse worker thread (src/node/cim-parser.ts). Plain JavaScript, so that Node
// can start it under tsx (npm start) and under vitest alike; it teaches the thread TypeScript,
// then runs the parser.
import { register } from 'tsx/esm/api';

register();
await import('./cim-parse-thread.ts');
