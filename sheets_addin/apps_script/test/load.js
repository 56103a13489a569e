// Load Code.gs the way Apps Script does: one global scope, no module system.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const ROOT = path.resolve(__dirname, '..', '..', '..');

function loadCode() {
  const source = fs.readFileSync(path.join(__dirname, '..', 'Code.gs'), 'utf8');
  const context = vm.createContext({});
  vm.runInContext(source, context, {filename: 'Code.gs'});
  return context;
}

function loadVectors(name) {
  const file = path.join(ROOT, 'tests', 'vectors', name + '.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).cases;
}

// A JSON cell as Google Sheets hands it to a custom function: Date at local midnight, number,
// text, "" for an empty cell, the error's text for an error value.
function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value === null) return '';
  if (typeof value === 'object') {
    if ('date' in value) {
      const [y, m, d] = value.date.split('-').map(Number);
      return new Date(y, m - 1, d);
    }
    if ('datetime' in value) {
      const [day, time] = value.datetime.split('T');
      const [y, m, d] = day.split('-').map(Number);
      const [hh, mm, ss] = time.split(':').map(Number);
      return new Date(y, m - 1, d, hh, mm, ss);
    }
    if ('error' in value) return value.error;
  }
  return value;
}

function isDate(value) {
  return Object.prototype.toString.call(value) === '[object Date]';
}

// Compare an answer with the expected JSON cell: numbers within 1e-9, dates by day.
function same(actual, expected) {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length &&
      expected.every((e, i) => same(actual[i], e));
  }
  if (expected === null) return actual === '';
  if (typeof expected === 'object' && 'date' in expected) {
    if (!isDate(actual)) return false;
    const iso = `${actual.getFullYear()}-${String(actual.getMonth() + 1).padStart(2, '0')}-` +
      String(actual.getDate()).padStart(2, '0');
    return iso === expected.date;
  }
  if (typeof expected === 'number') return typeof actual === 'number' && Math.abs(actual - expected) <= 1e-9;
  return actual === expected;
}

module.exports = {loadCode, loadVectors, decode, same, ROOT};
