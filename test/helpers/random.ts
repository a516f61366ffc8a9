/** The seeded PRNG lives in src/runtime/random.ts; tests import it from here as before. */
export { SeededRandom } from '../../src/runtime/random.js';
