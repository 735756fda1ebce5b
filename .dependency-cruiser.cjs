// Imports go one way (docs/architecture.md, "Layers: imports go one way"):
//   entry points → processes → resources → kernel,
// and the libraries cim/, openadr/, identity/ import nothing from src/. `npm run deps` checks it in CI.
// A path is in the first layer it matches, in the order entry, process, resource, kernel.

/** Entry points: the runtimes, the CLI, their Node-only helpers, the demo data, every HTTP router and the pages, and the
 * composition roots (src/app.ts builds the app from its ports, src/hooks.ts registers the kernel's hooks). */
const ENTRY = [
  '^src/(app|node|worker|worker-assets|worker-config|worker-tracing|cli|hooks|jobs)[.]ts$',
  '^src/(node|demo)/',
  '^src/[^/]+/[^/]*routes[.]ts$',
  '^src/http/pages[.]ts$',
  '^src/identity/pages[.]ts$',
  '^src/openadr/oadr31[.]ts$',
  '^(bin|scripts)/',
];
/** Processes: work that spans several resources. */
const PROCESS = '^src/(switching|disputes|cim|quality|qualifications|analytics|notices|onboarding|consumers)/';
/** Resources: each owns its tables and its rules. */
const RESOURCE = '^src/(organisations|assets|units|products|catalogue|identity|openadr|consent|webhooks|connection-limits|sharing)/';
/** The kernel the domains stand on: database, time and IDs, problems and rule codes, principal and permissions, audit, events. */
const KERNEL = ['^src/(kernel|storage|http|access|audit|events)/', '^src/(ports|context|ids|config|rules)[.]ts$'];
/** Libraries: could be published on their own. */
const LIBRARY = '^(cim|openadr|identity)/';

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
      from: {},
      to: { circular: true },
    },
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
      // cloudflare:node is a workerd built-in (src/cloudflare-node.d.ts).
      to: { couldNotResolve: true, pathNot: ['^@scalar/api-reference/dist/browser/standalone[.]js$', '^cloudflare:node$'] },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'Every module is imported by something, or is an entry point.',
      from: {
        orphan: true,
        pathNot: ['[.]d[.]ts$', '^src/(node|worker|cli)[.]ts$', '^src/node/cim-parse-worker[.]mjs$', '^(bin|scripts)/'],
      },
      to: {},
    },
  ],
  options: {
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
