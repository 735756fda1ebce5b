// Imports go one way (docs/architecture.md, "Layers: imports go one way"):
//   entry points → processes → resources → kernel,
// and the libraries cim/, openadr/, identity/ import nothing from src/. `npm run deps` checks it in CI.
// A path is in the first layer it matches, in the order entry, process, resource, kernel.

/** Entry points: the runtimes, the CLI, their Node-only helpers, the demo data, every HTTP router and the pages, and the
 * composition roots (src/app.ts builds the app from its ports, src/hooks.ts registers the kernel's hooks). */
const ENTRY = [
  '^src/(app|node|worker|worker-assets|cli|hooks)[.]ts$',
  '^src/(node|demo)/',
  '^src/[^/]+/[^/]*routes[.]ts$',
  '^src/http/pages[.]ts$',
  '^src/identity/pages[.]ts$',
  '^src/openadr/oadr31[.]ts$',
  '^(bin|scripts)/',
];
/** Processes: work that spans several resources. */
const PROCESS = '^src/(switching|disputes|cim|quality|analytics)/';
/** Resources: each owns its tables and its rules. */
const RESOURCE = '^src/(organisations|assets|units|products|catalogue|identity|openadr|consent)/';
/** The kernel the domains stand on: database, time and IDs, problems and rule codes, principal and permissions, audit, events. */
const KERNEL = ['^src/(kernel|storage|http|access|audit|events)/', '^src/(ports|context|ids|config|rules)[.]ts$'];
/** Libraries: could be published on their own. */
const LIBRARY = '^(cim|openadr|identity)/';

/**
 * Folders in an import cycle today that the move to kernel hooks removes (assets → quality,
 * assets → units, units ↔ products). dependency-cruiser's baseline cannot hold folder-level
 * violations, so they are named here; a cycle from any other folder, or from one of these to any
 * other folder, is an error. Empty this list when those imports are gone.
 */
const FOLDERS_IN_KNOWN_CYCLES = ['src/assets', 'src/quality', 'src/units', 'src/products'];
const knownFolders = FOLDERS_IN_KNOWN_CYCLES.length ? [`^(${FOLDERS_IN_KNOWN_CYCLES.join('|')})$`] : [];

/**
 * Module-level violations known today (the same imports as above), made with `npx depcruise-baseline
 * src cim openadr identity bin scripts`: reported as ignored, not as errors. Delete the file when
 * they are gone; a new violation is an error either way.
 */
const KNOWN_VIOLATIONS = '.dependency-cruiser-known-violations.json';
const fs = require('node:fs');
const baseline = fs.existsSync(KNOWN_VIOLATIONS) ? { knownViolations: JSON.parse(fs.readFileSync(KNOWN_VIOLATIONS, 'utf8')) } : {};

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'No import cycles between modules, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'No import cycles between folders: a folder and everything under it depends one way.',
      scope: 'folder',
      from: { pathNot: knownFolders },
      to: { circular: true },
    },
    ...(knownFolders.length
      ? [{
          name: 'no-folder-cycle',
          severity: 'error',
          comment: 'No import cycles between folders (a known cycle may only stay among FOLDERS_IN_KNOWN_CYCLES).',
          scope: 'folder',
          from: { path: knownFolders },
          to: { circular: true, pathNot: knownFolders },
        }]
      : []),
    {
      name: 'in-a-layer',
      severity: 'error',
      comment: 'Every file under src/ is in a layer: put a new folder or root file in ENTRY, PROCESS, RESOURCE or KERNEL.',
      from: { path: '^src/', pathNot: [...ENTRY, PROCESS, RESOURCE, ...KERNEL, '[.]d[.]ts$'] },
      to: {},
    },
    {
      name: 'entry-imported',
      severity: 'error',
      comment: 'Entry points (runtimes, CLI, routers, pages, demo) are imported only by entry points.',
      from: { pathNot: ENTRY },
      to: { path: ENTRY },
    },
    {
      name: 'kernel-imports-up',
      severity: 'error',
      comment: 'The kernel imports only the kernel and the libraries, never a resource, process or entry point.',
      from: { path: KERNEL, pathNot: ENTRY },
      to: { path: [PROCESS, RESOURCE] },
    },
    {
      name: 'resource-imports-process',
      severity: 'error',
      comment: 'A resource imports other resources (without cycles), the kernel and the libraries, never a process.',
      from: { path: RESOURCE, pathNot: ENTRY },
      to: { path: PROCESS },
    },
    {
      name: 'library-imports-src',
      severity: 'error',
      comment: 'The libraries cim/, openadr/ and identity/ import nothing from src/.',
      from: { path: LIBRARY },
      to: { path: '^src/' },
    },
    {
      name: 'library-imports-up',
      severity: 'error',
      comment: 'The libraries import nothing from the entry points either.',
      from: { path: LIBRARY },
      to: { path: '^(bin|scripts)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a file, a package in node_modules or a Node built-in).',
      from: {},
      // wrangler bundles the installed script as a text module (wrangler.toml [[rules]], src/text-modules.d.ts).
      to: { couldNotResolve: true, pathNot: '^@scalar/api-reference/dist/browser/standalone[.]js$' },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'Every module is imported by something, or is an entry point.',
      from: {
        orphan: true,
        pathNot: [
          '[.]d[.]ts$',
          '^src/(node|worker|cli)[.]ts$',
          '^src/node/cim-parse-worker[.]mjs$',
          '^(bin|scripts)/',
        ],
      },
      to: {},
    },
  ],
  options: {
    ...baseline,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/storage/migrations/' },
    // Type-only imports count: a cycle of types is still a cycle for the reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.mjs', '.js', '.json', '.d.ts'],
    },
  },
};
