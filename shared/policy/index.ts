/** The policy room's public API: logging policies, scores, pi, values, row sampler, adaptive epochs, a version's logging policy and evaluation. */
export * from './spec.js';
export * from './stores.js';
export * from './scores.js';
export * from './probabilities.js';
export * from './values.js';
export * from './alias.js';
export * from './evaluation.js';
export * from './adaptive.js';
export * from './adaptive-replay.js';
export * from './logging.js';
export * from './evaluate-version.js';
export * from './row-drawer.js';
