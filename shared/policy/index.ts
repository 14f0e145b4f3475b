/** The policy room's public API: logging policies, scores, pi, values, row sampler, adaptive epochs. */
export * from './spec.js';
export * from './stores.js';
export * from './scores.js';
export * from './probabilities.js';
export * from './values.js';
export * from './alias.js';
export * from './evaluation.js';
export * from './adaptive.js';
