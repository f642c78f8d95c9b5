export * from './profiles.js';
export * from './weights.js';
export * from './sweep.js';
export * from './normalize.js';
export * from './corpus.js';
