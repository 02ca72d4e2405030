/**
 * Fuzzing the ingest boundary, a small seeded run for `npm test` (the full run is `npm run fuzz`): whatever
 * arrives — random JSON, fixtures with mutations, hostile paths, media types, encodings and credentials — the
 * core answers Accepted or a typed InputError (4xx, `$`-paths), and the runtime never replies 5xx.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ingestProperties } from '../../support/arbitraries.ts';

/** Fixed, so that a failure here reproduces; `npm run fuzz` draws a new seed each run. */
const SEED = 20_261_120;
const RUNS = 300;

describe('ingest fuzzing (seeded)', () => {
  for (const property of ingestProperties()) {
    it(property.name, async () => {
      const details = await property.check({ seed: SEED, numRuns: RUNS });
      assert.ok(!details.failed, fc.defaultReportMessage(details));
      assert.equal(details.numRuns, RUNS);
    });
  }
});
