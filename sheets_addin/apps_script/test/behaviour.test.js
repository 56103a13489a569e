// What a Google Sheets user notices beyond the shared vectors.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const {loadCode} = require('./load.js');

const code = loadCode();

test('ranges of different sizes give one clear error', () => {
  const result = code.ENCOURS_INTERETS([[100], [200]], [[new Date(2025, 0, 1)]], '', 'FR', new Date(2025, 5, 1));
  assert.strictEqual(result, '#ENCOURS: ranges must have the same size');
});

test('an omitted as-of date means today', () => {
  const yesterday = new Date();
  yesterday.setDate(yesterday.getDate() - 1);
  assert.strictEqual(code.ENCOURS_JOURS_RETARD(yesterday), 1);
  assert.strictEqual(code.ENCOURS_TRANCHE(yesterday), '1-30');
});

test('a whole column is one call and one array; a bad cell stays in its cell', () => {
  const asOf = new Date(2026, 10, 23);
  const column = [[new Date(2026, 10, 1)], ['hier'], [''], ['#N/A'], [new Date(2026, 10, 23)]];
  // arrays made inside the script's context: compare their content
  assert.deepStrictEqual(JSON.parse(JSON.stringify(code.ENCOURS_JOURS_RETARD(column, asOf))), [
    [22], ['#ENCOURS: due date is not a date'], ['#ENCOURS: due date is empty'],
    ['#ENCOURS: due date is an error value (#N/A)'], [0]]);
});

test('the helpers stay private: only ENCOURS_ functions are custom functions', () => {
  const names = Object.keys(code).filter((k) => typeof code[k] === 'function' && !k.endsWith('_'));
  assert.ok(names.length >= 14);
  for (const name of names) {
    if (name === 'EncoursCellError_') continue;
    assert.match(name, /^ENCOURS_[A-Z_]+$/, name);
  }
});

test('inside Google Sheets, dates are read in the spreadsheet time zone (Utilities.formatDate)', () => {
  const vm = require('node:vm');
  const fs = require('node:fs');
  const path = require('node:path');
  const calls = [];
  const context = vm.createContext({
    SpreadsheetApp: {getActiveSpreadsheet: () => ({getSpreadsheetTimeZone: () => 'Pacific/Kiritimati'})},
    Utilities: {
      formatDate: (d, zone, pattern) => {
        calls.push(zone);
        // midnight in Kiritimati (UTC+14) is 10:00 the day before in UTC
        const shifted = new Date(d.getTime() + 14 * 3600 * 1000);
        return shifted.toISOString().substring(0, 10);
      },
    },
  });
  vm.runInContext(fs.readFileSync(path.join(__dirname, '..', 'Code.gs'), 'utf8'), context);
  const due = new Date(Date.UTC(2026, 10, 21, 10)); // 22 Nov 2026 00:00 in Kiritimati
  const asOf = new Date(Date.UTC(2026, 10, 22, 10)); // 23 Nov 2026 00:00 there
  assert.strictEqual(context.ENCOURS_JOURS_RETARD([[due], [due]], asOf)[1][0], 1);
  assert.ok(calls.every((zone) => zone === 'Pacific/Kiritimati'));
  assert.strictEqual(calls.length, 2); // the same instant is formatted once
});
