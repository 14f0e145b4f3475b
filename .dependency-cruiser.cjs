/**
 * The import graph's rules, checked by `npm run check:cycles` (part of npm
 * test): no cycles, and the layers stay visible. shared/ is the domain and
 * imports no entry point or client; functions/ (what Cloud Functions deploys
 * with shared/) imports neither the local stack nor the CLI.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle hides which module depends on which',
      from: {},
      to: {circular: true},
    },
    {
      name: 'shared-is-the-domain',
      severity: 'error',
      comment:
        'shared/ must not import an entry point (functions, cli, local) or a client',
      from: {path: '^shared/'},
      to: {path: '^(functions|cli|local|clients|test|bench|scripts)/'},
    },
    {
      name: 'functions-deploy-alone',
      severity: 'error',
      comment:
        'functions/ is deployed with shared/ only: no local stack, CLI or client',
      from: {path: '^functions/'},
      to: {path: '^(local|cli|clients|test|bench|scripts)/'},
    },
    {
      name: 'clients-stand-apart',
      severity: 'error',
      comment: 'the API client may use the domain types, not an entry point',
      from: {path: '^clients/'},
      to: {path: '^(functions|cli|local|test|bench|scripts)/'},
    },
    {
      name: 'product-code-imports-no-tests',
      severity: 'error',
      from: {path: '^(shared|functions|cli|local|clients)/'},
      to: {path: '^test/'},
    },
  ],
  options: {
    // type-only imports count: a cycle of types is still a cycle to a reader
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    doNotFollow: {path: 'node_modules'},
    exclude: {path: '^(build|node_modules)/'},
  },
};
