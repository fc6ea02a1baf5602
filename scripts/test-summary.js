// Sums jest's JSON results of every tier into the one closing line CI reads:
// "Tests: N passed, N failed" (plus ", N skipped" when any test was skipped).
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
let missing = 0;
for (const tier of ['unit', 'integration', 'e2e']) {
  const file = path.join(dir, `${tier}.json`);
  if (!fs.existsSync(file)) {
    console.log(`${tier}: no results (the tier did not run)`);
    missing += 1;
    continue;
  }
  const result = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests + result.numRuntimeErrorTestSuites;
  skipped += result.numPendingTests + result.numTodoTests;
  console.log(
    `${tier}: ${result.numPassedTests} passed, ${result.numFailedTests} failed in ${result.numTotalTestSuites} suites`,
  );
}
const tail = skipped > 0 ? `, ${skipped} skipped` : '';
console.log(`Tests: ${passed} passed, ${failed} failed${tail}`);
process.exit(failed > 0 || missing > 0 || passed === 0 ? 1 : 0);
