// The shared vectors (tests/vectors/*.json) against the Apps Script functions.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const {loadCode, loadVectors, decode, same} = require('./load.js');

const code = loadCode();
const FILES = ['aging', 'interest', 'scores', 'kpis', 'forecast'];

for (const file of FILES) {
  test(`vectors: ${file}`, async (t) => {
    const cases = loadVectors(file);
    assert.ok(cases.length > 0);
    for (const c of cases) {
      await t.test(`${c.function}: ${c.name}`, () => {
        const fn = code[c.function];
        assert.strictEqual(typeof fn, 'function', `${c.function} is defined in Code.gs`);
        const actual = fn(...c.args.map(decode));
        assert.ok(same(actual, c.expected),
          `${JSON.stringify(actual)} != ${JSON.stringify(c.expected)}`);
      });
    }
  });
}
