// The rate table copied into Code.gs must be the shipped sheets_addin/data/rates.toml.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const {loadCode, ROOT} = require('./load.js');

function tomlHalfYears() {
  const text = fs.readFileSync(path.join(ROOT, 'sheets_addin', 'data', 'rates.toml'), 'utf8');
  return text.split('[[half_year]]').slice(1).map((block) => {
    const entry = {};
    for (const line of block.split('\n')) {
      const m = line.match(/^\s*(\w+)\s*=\s*"?([^"#\s]+)"?/);
      if (!m) continue;
      entry[m[1]] = m[2] === 'true' ? true : m[2];
    }
    return entry;
  });
}

test('Code.gs carries the same half-years and rates as rates.toml', () => {
  const code = loadCode();
  const fromToml = tomlHalfYears();
  assert.ok(fromToml.length >= 6);
  assert.deepStrictEqual(JSON.parse(JSON.stringify(code.ENCOURS_RATES)), fromToml);
});

test('FR H1 2025 is 13.15 %, H2 2025 12.15 %; BE H2 2025 10.5 % (one year on 100,000.00)', () => {
  const code = loadCode();
  // 365 days inside one half-year cannot happen; use 100 days and compare with the rate directly.
  const fr1 = code.ENCOURS_INTERETS(100000, new Date(2025, 0, 31), new Date(2025, 4, 11), 'FR');
  assert.strictEqual(fr1, Math.round(100000 * 0.1315 * 100 / 365 * 100) / 100);
  const fr2 = code.ENCOURS_INTERETS(100000, new Date(2025, 7, 31), new Date(2025, 11, 9), 'FR');
  assert.strictEqual(fr2, Math.round(100000 * 0.1215 * 100 / 365 * 100) / 100);
  const be2 = code.ENCOURS_INTERETS(100000, new Date(2025, 7, 31), new Date(2025, 11, 9), 'BE');
  assert.strictEqual(be2, Math.round(100000 * 0.105 * 100 / 365 * 100) / 100);
});
