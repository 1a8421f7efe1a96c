// The layering of src/ (README "Layout"), checked by `npm run deps` in `npm test`. Dependencies flow
// one way: util → io → data → import, attacks → poison; data → train → abl → config → pipeline → cli,
// with report kept apart from the stages: it owns report.json's schema and renders it from data.
// src/errors.ts is below every layer. Type-only imports count too: they couple modules just the same.

/** Each layer (a folder of src/) and the layers it may import besides itself. */
const ALLOWED = {
  util: [],
  io: ['util'],
  data: ['io', 'util'],
  import: ['data', 'io', 'util'],
  attacks: ['data', 'util'],
  poison: ['attacks', 'data', 'io', 'util'],
  train: ['data', 'io', 'util'],
  abl: ['train', 'data', 'io', 'util'],
  report: ['util'],
  config: ['report', 'abl', 'train', 'data', 'util'],
  pipeline: ['config', 'report', 'abl', 'train', 'data', 'io', 'util'],
  cli: ['pipeline', 'config', 'report', 'abl', 'train', 'poison', 'attacks', 'import', 'data', 'io', 'util'],
};

const layerRules = Object.entries(ALLOWED).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer} may import only ${allowed.length ? allowed.join(', ') : 'errors.ts'} (see README "Layout")`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: '^src/[^/]+/', pathNot: `^src/(${[layer, ...allowed].join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: its modules cannot be understood, tested or loaded one at a time',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unknown-layer',
      comment: 'every folder of src/ is a layer with declared dependencies (add it to ALLOWED)',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: `^src/(${Object.keys(ALLOWED).join('|')})/` },
      to: {},
    },
    {
      name: 'errors-import-nothing',
      comment: 'src/errors.ts is below every layer',
      severity: 'error',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'no-barrel-inside',
      comment: 'src/index.ts is the public entry; code inside imports the module it needs',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'no-tests-from-src',
      comment: 'product code never imports test, benchmark or fixture code',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|fixtures)/' },
    },
    {
      name: 'report-no-tensors',
      comment: 'src/report renders data; it never loads TensorFlow.js',
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '@tensorflow' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
