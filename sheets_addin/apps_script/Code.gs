/**
 * encours — custom functions for Google Sheets (Apps Script).
 *
 * The same functions, with the same answers, as the Python reference (sheets_addin/functions.py,
 * sheets_addin/cells.py) and the Excel add-in (sheets_addin/udfs.py); all three are checked
 * against tests/vectors/*.json.  Each function takes a single cell or a whole range and returns
 * one array that spills.  A bad cell answers "#ENCOURS: <what is wrong>" in its own cell only.
 *
 * Money is computed in whole cents (BigInt where products could pass 2^53), rounded half-up.
 */

var ENCOURS_ERROR = '#ENCOURS: ';
var ENCOURS_ERROR_VALUES = ['#N/A', '#VALUE!', '#REF!', '#DIV/0!', '#NUM!', '#NAME?', '#NULL!', '#SPILL!',
  '#CALC!', '#ERROR!', '#GETTING_DATA', '#FIELD!', '#BLOCKED!', '#CONNECT!', '#BUSY!', '#UNKNOWN!',
  'Err:502', 'Err:504'];
var ENCOURS_DEFAULT_BOUNDS = [30, 60, 90];
var ENCOURS_EXCEL_EPOCH_DAY = -25569; // 1899-12-30 as days since 1970-01-01

/**
 * Late-payment reference rates per half-year — a copy of sheets_addin/data/rates.toml (a test
 * checks they agree).  ecb: ECB main refinancing rate on the first day of the half-year (%);
 * be: the published Belgian rate when known; carried_forward: not yet published, repeats the
 * previous half-year.  To override, edit this table in your copy of the script.
 */
var ENCOURS_RATES = [
  {start: '2021-01-01', ecb: '0.00', legal_fr: '0.79', be: '8.00'},
  {start: '2021-07-01', ecb: '0.00', legal_fr: '0.76', be: '8.00'},
  {start: '2022-01-01', ecb: '0.00', legal_fr: '0.76', be: '8.00'},
  {start: '2022-07-01', ecb: '0.00', legal_fr: '0.77', be: '8.00'},
  {start: '2023-01-01', ecb: '2.50', legal_fr: '2.06', be: '10.50'},
  {start: '2023-07-01', ecb: '4.00', legal_fr: '4.22', be: '12.00'},
  {start: '2024-01-01', ecb: '4.50', legal_fr: '5.07', be: '12.50'},
  {start: '2024-07-01', ecb: '4.25', legal_fr: '4.92', be: '12.50'},
  {start: '2025-01-01', ecb: '3.15', legal_fr: '3.71', be: '11.50'},
  {start: '2025-07-01', ecb: '2.15', legal_fr: '2.76', be: '10.50'},
  {start: '2026-01-01', ecb: '2.15', legal_fr: '2.62'},
  {start: '2026-07-01', ecb: '2.15', legal_fr: '2.62', carried_forward: true}
];

// ---------------------------------------------------------------------------------------------
// Cells
// ---------------------------------------------------------------------------------------------

function EncoursCellError_(message) {
  this.message = ENCOURS_ERROR + message;
}

function encoursFail_(message) {
  throw new EncoursCellError_(message);
}

function encoursIsDate_(value) {
  return Object.prototype.toString.call(value) === '[object Date]';
}

function encoursIsBlank_(value) {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

function encoursIsError_(value) {
  return typeof value === 'string' &&
    (ENCOURS_ERROR_VALUES.indexOf(value) >= 0 || value.indexOf(ENCOURS_ERROR) === 0);
}

function encoursCheck_(value, what) {
  if (encoursIsBlank_(value)) encoursFail_(what + ' is empty');
  if (encoursIsError_(value)) {
    var code = value.indexOf(ENCOURS_ERROR) === 0 ? value.substring(ENCOURS_ERROR.length) : value;
    encoursFail_(what + ' is an error value (' + code + ')');
  }
}

var encoursTimeZone_ = null;

/** The spreadsheet's time zone (dates in cells are midnight there), or null outside Sheets. */
function encoursZone_() {
  if (encoursTimeZone_ === null) {
    encoursTimeZone_ = '';
    try {
      if (typeof SpreadsheetApp !== 'undefined') {
        encoursTimeZone_ = SpreadsheetApp.getActiveSpreadsheet().getSpreadsheetTimeZone();
      }
    } catch (e) {
      encoursTimeZone_ = '';
    }
  }
  return encoursTimeZone_;
}

var encoursDayCache_ = {};

/** A Date as a day number (days since 1970-01-01), read in the spreadsheet's time zone. */
function encoursDayOfDate_(d) {
  var zone = encoursZone_();
  if (zone && typeof Utilities !== 'undefined') {
    var stamp = d.getTime();
    if (!(stamp in encoursDayCache_)) { // invoices share due dates: format each instant once
      var parts = Utilities.formatDate(d, zone, 'yyyy-MM-dd').split('-');
      encoursDayCache_[stamp] = Date.UTC(+parts[0], +parts[1] - 1, +parts[2]) / 86400000;
    }
    return encoursDayCache_[stamp];
  }
  return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86400000;
}

/** A date cell as a day number: a Date or a date serial number. */
function encoursDay_(value, what) {
  encoursCheck_(value, what);
  if (encoursIsDate_(value)) {
    if (isNaN(value.getTime())) encoursFail_(what + ' is not a date');
    return encoursDayOfDate_(value);
  }
  if (typeof value === 'number') {
    if (!(value >= 1 && value < 2958466)) encoursFail_(what + ' is not a date');
    return ENCOURS_EXCEL_EPOCH_DAY + Math.floor(value);
  }
  encoursFail_(what + ' is not a date');
}

/** A day number as a Date at midnight (script time zone: set it to the spreadsheet's). */
function encoursDate_(day) {
  var d = new Date(day * 86400000);
  return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function encoursIsoDay_(day) {
  return new Date(day * 86400000).toISOString().substring(0, 10);
}

function encoursDayOfIso_(text) {
  var p = text.split('-');
  return Date.UTC(+p[0], +p[1] - 1, +p[2]) / 86400000;
}

/** A number cell (text is refused, as the spreadsheet's own arithmetic would). */
function encoursNumber_(value, what) {
  encoursCheck_(value, what);
  if (typeof value !== 'number' || !isFinite(value)) encoursFail_(what + ' is not a number');
  return value;
}

/**
 * A decimal written in text ("1234.5", "1e-7") scaled by 10^scale and rounded half away from zero,
 * as a BigInt.  Numbers go through their shortest text form (the digits people typed).
 */
function encoursScaled_(text, scale) {
  var s = String(text).trim();
  var negative = s.charAt(0) === '-';
  if (negative || s.charAt(0) === '+') s = s.substring(1);
  var exponent = 0;
  var e = s.search(/[eE]/);
  if (e >= 0) {
    exponent = parseInt(s.substring(e + 1), 10);
    s = s.substring(0, e);
  }
  var dot = s.indexOf('.');
  var digits = dot >= 0 ? s.substring(0, dot) + s.substring(dot + 1) : s;
  var point = (dot >= 0 ? dot : s.length) + exponent + scale; // digits before the (scaled) point
  var whole;
  var rest;
  if (point <= 0) {
    whole = '0';
    rest = new Array(-point + 1).join('0') + digits;
  } else if (point >= digits.length) {
    whole = digits + new Array(point - digits.length + 1).join('0');
    rest = '';
  } else {
    whole = digits.substring(0, point);
    rest = digits.substring(point);
  }
  var result = BigInt(whole || '0');
  if (rest.length && rest.charAt(0) >= '5') result += 1n;
  return negative ? -result : result;
}

/** A money cell in whole cents (BigInt), rounded half-up. */
function encoursCents_(value, what) {
  return encoursScaled_(String(encoursNumber_(value, what)), 2);
}

function encoursWhole_(value, what) {
  var n = encoursNumber_(value, what);
  if (Math.floor(n) !== n) encoursFail_(what + ' is not a whole number');
  return n;
}

function encoursCountry_(value) {
  if (encoursIsBlank_(value)) return 'FR';
  if (encoursIsError_(value)) encoursFail_('country is an error value (' + value + ')');
  var country = String(value).trim().toUpperCase();
  if (country !== 'FR' && country !== 'BE') encoursFail_('country must be FR or BE');
  return country;
}

// ---------------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------------

function encoursFlat_(value) {
  if (!Array.isArray(value)) return [value];
  var out = [];
  for (var i = 0; i < value.length; i++) {
    if (Array.isArray(value[i])) {
      for (var j = 0; j < value[i].length; j++) out.push(value[i][j]);
    } else {
      out.push(value[i]);
    }
  }
  return out;
}

function encoursGrid_(value) {
  if (value.length && !Array.isArray(value[0])) return value.map(function (v) { return [v]; });
  return value;
}

function encoursOne_(func, values) {
  try {
    return func.apply(null, values);
  } catch (e) {
    if (e instanceof EncoursCellError_) return e.message;
    throw e;
  }
}

/** Apply func cell by cell over ranges of one shape (single values repeat); errors stay in their cell. */
function encoursMap_(func, args) {
  var grids = args.map(function (a) { return Array.isArray(a) ? encoursGrid_(a) : null; });
  var height = -1;
  var width = -1;
  for (var k = 0; k < grids.length; k++) {
    if (grids[k] === null) continue;
    var h = grids[k].length;
    var w = 0;
    grids[k].forEach(function (row) { w = Math.max(w, row.length); });
    if (height >= 0 && (h !== height || w !== width)) return ENCOURS_ERROR + 'ranges must have the same size';
    height = h;
    width = w;
  }
  if (height < 0) return encoursOne_(func, args);
  var out = [];
  for (var i = 0; i < height; i++) {
    var row = [];
    for (var j = 0; j < width; j++) {
      var values = args.map(function (a, n) {
        var g = grids[n];
        return g === null ? a : (j < g[i].length ? g[i][j] : null);
      });
      row.push(encoursOne_(func, values));
    }
    out.push(row);
  }
  return out;
}

function encoursToday_(asOf) {
  return encoursIsBlank_(asOf) ? new Date() : asOf;
}

// ---------------------------------------------------------------------------------------------
// Aging
// ---------------------------------------------------------------------------------------------

function encoursBucket_(days, bounds) {
  if (days <= 0) return 'Non échu';
  var low = 1;
  for (var i = 0; i < bounds.length; i++) {
    if (days <= bounds[i]) return low + '-' + bounds[i];
    low = bounds[i] + 1;
  }
  return '> ' + bounds[bounds.length - 1];
}

function encoursBounds_(bounds) {
  if (bounds === undefined || bounds === null || (!Array.isArray(bounds) && encoursIsBlank_(bounds))) {
    return ENCOURS_DEFAULT_BOUNDS;
  }
  var values = encoursFlat_(bounds).filter(function (b) { return !encoursIsBlank_(b); })
    .map(function (b) { return encoursWhole_(b, 'bound'); });
  var previous = 0;
  if (!values.length) encoursFail_('bounds must be whole numbers rising from 1');
  values.forEach(function (b) {
    if (b <= previous) encoursFail_('bounds must be whole numbers rising from 1');
    previous = b;
  });
  return values;
}

function encoursDaysLate_(due, asOf) {
  var dueDay = encoursDay_(due, 'due date');
  return encoursDay_(asOf, 'as-of date') - dueDay;
}

/**
 * Days past due = as-of date − due date (negative: not yet due).
 *
 * @param {Date|Array} due Due date: one cell or a column.
 * @param {Date} [as_of] As-of date (default: today).
 * @return {number|Array} Days past due, one per due date.
 * @customfunction
 */
function ENCOURS_JOURS_RETARD(due, as_of) {
  var asOf = encoursToday_(as_of);
  return encoursMap_(encoursDaysLate_, [due, asOf]);
}

/**
 * The aging bucket: "Non échu", "1-30", "31-60", "61-90", "> 90" (bounds can be changed).
 *
 * @param {Date|Array} due Due date: one cell or a column.
 * @param {Date} [as_of] As-of date (default: today).
 * @param {Array} [bounds] Upper bounds of the buckets, rising (default 30, 60, 90).
 * @return {string|Array} The bucket of each due date.
 * @customfunction
 */
function ENCOURS_TRANCHE(due, as_of, bounds) {
  var asOf = encoursToday_(as_of);
  var chosen;
  try {
    chosen = encoursBounds_(bounds);
  } catch (e) {
    if (!(e instanceof EncoursCellError_)) throw e;
    return encoursMap_(function () { return e.message; }, [due]);
  }
  return encoursMap_(function (d, a) { return encoursBucket_(encoursDaysLate_(d, a), chosen); }, [due, asOf]);
}

// ---------------------------------------------------------------------------------------------
// Late-payment interest (rates in 1/10,000 of a percent)
// ---------------------------------------------------------------------------------------------

var ENCOURS_RATE_SCALE = 10000n;

function encoursRateFor_(day, country) {
  var d = new Date(day * 86400000);
  var startDay = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() < 6 ? 0 : 6, 1) / 86400000;
  var chosen = null;
  for (var i = 0; i < ENCOURS_RATES.length; i++) {
    if (encoursDayOfIso_(ENCOURS_RATES[i].start) <= startDay) chosen = ENCOURS_RATES[i];
  }
  if (chosen === null) return null;
  var ecb = encoursScaled_(chosen.ecb, 4);
  var rate;
  if (country === 'FR') {
    rate = chosen.fr !== undefined ? encoursScaled_(chosen.fr, 4) : ecb + 10n * ENCOURS_RATE_SCALE;
  } else if (chosen.be !== undefined) {
    rate = encoursScaled_(chosen.be, 4);
  } else {
    var half = ENCOURS_RATE_SCALE / 2n;
    var raw = ecb + 8n * ENCOURS_RATE_SCALE;
    rate = ((raw + half - 1n) / half) * half;
  }
  var endMonth = d.getUTCMonth() < 6 ? 5 : 11;
  var endDay = Date.UTC(d.getUTCFullYear(), endMonth + 1, 0) / 86400000;
  return {rate: rate, end: endDay};
}

/** round(n / d) half away from zero, for BigInt n and d > 0. */
function encoursDivHalfUp_(n, d) {
  var negative = n < 0n;
  var a = negative ? -n : n;
  var q = a / d;
  var r = a % d;
  if (2n * r >= d) q += 1n;
  return negative ? -q : q;
}

function encoursInterest_(amount, due, paidOn, country, asOf) {
  var cents = encoursCents_(amount, 'amount');
  var dueDay = encoursDay_(due, 'due date');
  var end = encoursIsBlank_(paidOn) ? encoursDay_(asOf, 'as-of date') : encoursDay_(paidOn, 'payment date');
  var code = encoursCountry_(country);
  var numerator = 0n;
  var day = dueDay + 1;
  while (day <= end) {
    var part = encoursRateFor_(day, code);
    if (part === null) encoursFail_('no late-payment rate for ' + encoursIsoDay_(dueDay));
    var last = Math.min(part.end, end);
    numerator += cents * part.rate * BigInt(last - day + 1);
    day = last + 1;
  }
  if (cents <= 0n || end <= dueDay) return 0;
  return Number(encoursDivHalfUp_(numerator, 100n * ENCOURS_RATE_SCALE * 365n)) / 100;
}

/**
 * Late-payment interest, rounded to the cent: France ECB + 10 points, Belgium ECB + 8 points
 * rounded up to the next half point; the period is split by half-year, 365-day year.
 *
 * @param {number|Array} amount Amount including VAT (one cell or a column).
 * @param {Date|Array} due Due date.
 * @param {Date|Array} [paid_on] Payment date (empty: unpaid, interest up to the as-of date).
 * @param {string} [country] "FR" (default) or "BE".
 * @param {Date} [as_of] As-of date for unpaid invoices (default: today).
 * @return {number|Array} Interest in the invoice's currency.
 * @customfunction
 */
function ENCOURS_INTERETS(amount, due, paid_on, country, as_of) {
  return encoursMap_(encoursInterest_, [amount, due, paid_on, country, encoursToday_(as_of)]);
}

function encoursIndemnity_(amount, due, paidOn, asOf) {
  var value = encoursNumber_(amount, 'amount');
  var dueDay = encoursDay_(due, 'due date');
  var end = encoursIsBlank_(paidOn) ? encoursDay_(asOf, 'as-of date') : encoursDay_(paidOn, 'payment date');
  return value > 0 && end > dueDay ? 40 : 0;
}

/**
 * The fixed €40 recovery indemnity of an invoice paid (or still unpaid) after its due date.
 *
 * @param {number|Array} amount Amount including VAT.
 * @param {Date|Array} due Due date.
 * @param {Date|Array} [paid_on] Payment date (empty: unpaid).
 * @param {Date} [as_of] As-of date (default: today).
 * @return {number|Array} 40 or 0 per invoice.
 * @customfunction
 */
function ENCOURS_INDEMNITE(amount, due, paid_on, as_of) {
  return encoursMap_(encoursIndemnity_, [amount, due, paid_on, encoursToday_(as_of)]);
}

// ---------------------------------------------------------------------------------------------
// Payer score — same definition and same order of operations as functions.payer_scores
// ---------------------------------------------------------------------------------------------

function encoursKey_(value) {
  if (typeof value === 'number' && Math.floor(value) === value) return String(value);
  return String(value).trim();
}

function encoursHistory_(customers, dues, amounts, paidOn) {
  var cols = [encoursFlat_(customers), encoursFlat_(dues), encoursFlat_(amounts), encoursFlat_(paidOn)];
  var length = Math.max.apply(null, cols.map(function (c) { return c.length; }));
  var lines = [];
  for (var i = 0; i < length; i++) {
    var customer = cols[0][i];
    if (encoursIsBlank_(customer) || encoursIsError_(customer)) continue;
    try {
      var due = encoursDay_(cols[1][i], 'due date');
      var cents = Number(encoursCents_(cols[2][i], 'amount'));
      var paid = encoursIsBlank_(cols[3][i]) ? null : encoursDay_(cols[3][i], 'payment date');
    } catch (e) {
      if (e instanceof EncoursCellError_) continue;
      throw e;
    }
    lines.push({customer: encoursKey_(customer), due: due, cents: cents, paid: paid});
  }
  return lines;
}

function encoursCounts_(values, keys) {
  var counts = {};
  if (values === undefined || values === null) return counts;
  if (!Array.isArray(values)) {
    keys.forEach(function (k) { counts[encoursKey_(k)] = encoursIsBlank_(values) ? 0 : encoursWhole_(values, 'count'); });
    return counts;
  }
  var flat = encoursFlat_(values);
  for (var i = 0; i < keys.length && i < flat.length; i++) {
    if (encoursIsBlank_(keys[i]) || encoursIsBlank_(flat[i]) || encoursIsError_(flat[i])) continue;
    try {
      counts[encoursKey_(keys[i])] = encoursWhole_(flat[i], 'count');
    } catch (e) {
      if (!(e instanceof EncoursCellError_)) throw e;
    }
  }
  return counts;
}

function encoursHalfUp_(x) {
  return Math.floor(x + 0.5);
}

function encoursPlural_(n, word) {
  return n + ' ' + word + (n > 1 ? 's' : '');
}

/** The score of one customer from its lines; the field names follow functions.payer_scores. */
function encoursScoreOf_(lines, asOf, disputes, broken) {
  var n = 0, lateN = 0, paidAmt = 0, lateAmt = 0, dsum = 0;
  var rAmt = 0, rSum = 0, oAmt = 0, oSum = 0, owed = 0, overdue = 0;
  lines.forEach(function (l) {
    if (l.cents <= 0) return;
    if (l.paid !== null && l.paid <= asOf) {
      var age = asOf - l.paid;
      if (age >= 730) return;
      var delay = l.paid - l.due;
      n += 1;
      paidAmt += l.cents;
      dsum += l.cents * delay;
      if (delay > 0) {
        lateN += 1;
        lateAmt += l.cents;
      }
      if (age < 90) {
        rAmt += l.cents;
        rSum += l.cents * delay;
      } else {
        oAmt += l.cents;
        oSum += l.cents * delay;
      }
    } else {
      owed += l.cents;
      if (l.due < asOf) overdue += l.cents;
    }
  });
  var avg = paidAmt > 0 ? dsum / paidAmt : null;
  var trend = rAmt > 0 && oAmt > 0 ? rSum / rAmt - oSum / oAmt : 0;
  var lateShare = n > 0 ? lateN / n : 0;
  var lateAmountShare = paidAmt > 0 ? lateAmt / paidAmt : 0;
  var overdueShare = owed > 0 ? overdue / owed : 0;
  var flagged = n < 3;
  var pts = [
    flagged ? 0 : 25 * lateShare,
    flagged ? 0 : Math.min(30, Math.max(0, avg === null ? 0 : avg) * 0.5),
    flagged ? 0 : 10 * lateAmountShare,
    flagged ? 0 : Math.min(10, Math.max(-5, 0.5 * trend)),
    flagged ? 40 : 0,
    15 * overdueShare,
    Math.min(10, 5 * disputes),
    Math.min(20, 10 * broken)
  ];
  var lost = pts[0];
  for (var i = 1; i < pts.length; i++) lost = lost + pts[i];
  var score = encoursHalfUp_(Math.min(100, Math.max(0, 100 - lost)));
  var profile = score >= 80 ? 'A' : score >= 60 ? 'B' : score >= 40 ? 'C' : 'D';
  var avgShown = encoursHalfUp_(avg === null ? 0 : avg);
  var texts = [
    'en retard ' + lateN + ' fois sur ' + n,
    'retard moyen de ' + avgShown + ' j',
    encoursHalfUp_(lateAmountShare * 100) + ' % du montant payé en retard',
    'retards en hausse (+' + encoursHalfUp_(trend) + ' j sur 3 mois)',
    "peu d'historique (" + encoursPlural_(n, 'paiement') + ') : score neutre',
    encoursHalfUp_(overdueShare * 100) + " % de l'encours échu",
    encoursPlural_(disputes, 'litige'),
    encoursPlural_(broken, 'promesse') + ' non tenue' + (broken > 1 ? 's' : '')
  ];
  var chosen = [];
  var first = encoursArgMax_(pts, -1);
  if (flagged) {
    chosen.push(4);
    var top = encoursArgMax_(pts, 4);
    if (pts[top] >= 5) chosen.push(top);
  } else if (pts[first] >= 5) {
    chosen.push(first);
    var second = encoursArgMax_(pts, first);
    if (pts[second] >= 5) chosen.push(second);
  }
  var text = chosen.length
    ? chosen.map(function (i) { return texts[i]; }).join(' ; ')
    : "paie à l'heure : retard moyen de " + avgShown + ' j sur ' + encoursPlural_(n, 'paiement');
  return {
    avg_delay: avg,
    score: score,
    profile: profile,
    reason: text.charAt(0).toUpperCase() + text.substring(1)
  };
}

/** The first index of the largest value, leaving out index skip. */
function encoursArgMax_(values, skip) {
  var best = -1;
  for (var i = 0; i < values.length; i++) {
    if (i === skip) continue;
    if (best < 0 || values[i] > values[best]) best = i;
  }
  return best;
}

function encoursScoreCall_(field, customer, customers, dues, amounts, paidOn, asOf, disputes, broken) {
  var day;
  var counts;
  try {
    day = encoursDay_(asOf, 'as-of date');
    var keys = encoursFlat_(customer);
    counts = [encoursCounts_(disputes, keys), encoursCounts_(broken, keys)];
  } catch (e) {
    if (!(e instanceof EncoursCellError_)) throw e;
    return encoursMap_(function () { return e.message; }, [customer]);
  }
  var byCustomer = {};
  encoursHistory_(customers, dues, amounts, paidOn).forEach(function (l) {
    (byCustomer[l.customer] = byCustomer[l.customer] || []).push(l);
  });
  var cache = {};
  return encoursMap_(function (key) {
    if (encoursIsBlank_(key)) return '';
    encoursCheck_(key, 'customer');
    var k = encoursKey_(key);
    if (!cache.hasOwnProperty(k)) {
      cache[k] = encoursScoreOf_(byCustomer[k] || [], day, counts[0][k] || 0, counts[1][k] || 0);
    }
    var value = cache[k][field];
    return value === null ? '' : value;
  }, [customer]);
}

/**
 * Payer score 0–100: how often, how late and how much a customer paid late, the recent trend,
 * what is overdue now, disputes and broken promises.  Fewer than 3 payments: a neutral score.
 *
 * @param {string|Array} customer Customer id (one cell or a column).
 * @param {Array} customers History: the customer id of each line.
 * @param {Array} dues History: due dates.
 * @param {Array} amounts History: amounts (paid parts, or what is still owed).
 * @param {Array} paid_on History: payment dates (empty: still owed).
 * @param {Date} [as_of] As-of date (default: today).
 * @param {Array} [disputes] Disputes per customer (next to the customer column).
 * @param {Array} [broken_promises] Broken promises per customer.
 * @return {number|Array} The score of each customer.
 * @customfunction
 */
function ENCOURS_SCORE(customer, customers, dues, amounts, paid_on, as_of, disputes, broken_promises) {
  return encoursScoreCall_('score', customer, customers, dues, amounts, paid_on, encoursToday_(as_of), disputes,
    broken_promises);
}

/**
 * Payer profile: A (good payer, score ≥ 80), B (≥ 60), C (≥ 40), D (high risk).
 *
 * @param {string|Array} customer Customer id (one cell or a column).
 * @param {Array} customers History: the customer id of each line.
 * @param {Array} dues History: due dates.
 * @param {Array} amounts History: amounts.
 * @param {Array} paid_on History: payment dates (empty: still owed).
 * @param {Date} [as_of] As-of date (default: today).
 * @param {Array} [disputes] Disputes per customer.
 * @param {Array} [broken_promises] Broken promises per customer.
 * @return {string|Array} The profile of each customer.
 * @customfunction
 */
function ENCOURS_PROFIL(customer, customers, dues, amounts, paid_on, as_of, disputes, broken_promises) {
  return encoursScoreCall_('profile', customer, customers, dues, amounts, paid_on, encoursToday_(as_of), disputes,
    broken_promises);
}

/**
 * What drove the payer score, in one line.
 *
 * @param {string|Array} customer Customer id (one cell or a column).
 * @param {Array} customers History: the customer id of each line.
 * @param {Array} dues History: due dates.
 * @param {Array} amounts History: amounts.
 * @param {Array} paid_on History: payment dates (empty: still owed).
 * @param {Date} [as_of] As-of date (default: today).
 * @param {Array} [disputes] Disputes per customer.
 * @param {Array} [broken_promises] Broken promises per customer.
 * @return {string|Array} The explanation for each customer.
 * @customfunction
 */
function ENCOURS_SCORE_EXPLICATION(customer, customers, dues, amounts, paid_on, as_of, disputes, broken_promises) {
  return encoursScoreCall_('reason', customer, customers, dues, amounts, paid_on, encoursToday_(as_of), disputes,
    broken_promises);
}

/**
 * Average payment delay: amount-weighted mean of (payment date − due date) over paid lines.
 *
 * @param {string|Array} customer Customer id (one cell or a column).
 * @param {Array} customers History: the customer id of each line.
 * @param {Array} dues History: due dates.
 * @param {Array} amounts History: amounts.
 * @param {Array} paid_on History: payment dates (empty: still owed).
 * @param {Date} [as_of] As-of date (default: today).
 * @return {number|Array} Days (empty when nothing was paid).
 * @customfunction
 */
function ENCOURS_RETARD_MOYEN(customer, customers, dues, amounts, paid_on, as_of) {
  return encoursScoreCall_('avg_delay', customer, customers, dues, amounts, paid_on, encoursToday_(as_of), null,
    null);
}

// ---------------------------------------------------------------------------------------------
// KPIs: days to 0.1, rounded half-up, from exact cents
// ---------------------------------------------------------------------------------------------

function encoursTenths_(numerator, denominator, what) {
  if (denominator <= 0n) encoursFail_(what + ' must be positive');
  return Number(encoursDivHalfUp_(numerator, denominator)) / 10;
}

/**
 * DSO, simple = receivables ÷ credit sales of the period × days in the period.
 *
 * @param {number} receivables Receivables at the end of the period.
 * @param {number} credit_sales Credit sales of the period.
 * @param {number} days Days in the period.
 * @return {number} Days, to 0.1.
 * @customfunction
 */
function ENCOURS_DSO(receivables, credit_sales, days) {
  return encoursOne_(function (r, s, d) {
    var rc = encoursCents_(r, 'receivables');
    var sc = encoursCents_(s, 'credit sales');
    return encoursTenths_(rc * BigInt(encoursWhole_(d, 'days')) * 10n, sc, 'credit sales');
  }, [receivables, credit_sales, days]);
}

/**
 * DSO, countback: walk back month by month from the period end, consuming each month's sales
 * until the receivables are used up (212k over 100k/80k/70k → 73.7 days).
 *
 * @param {number} receivables Receivables at the end of the period.
 * @param {Array} monthly_sales Sales per month, most recent first.
 * @param {number} [month_days] Days per month (default 30).
 * @return {number} Days, to 0.1.
 * @customfunction
 */
function ENCOURS_DSO_COUNTBACK(receivables, monthly_sales, month_days) {
  return encoursOne_(function (r) {
    var sales = encoursFlat_(monthly_sales).filter(function (s) { return !encoursIsBlank_(s); })
      .map(function (s) { return encoursCents_(s, 'monthly sales'); });
    if (!sales.length) encoursFail_('monthly sales are empty');
    var length = BigInt(encoursIsBlank_(month_days) ? 30 : encoursWhole_(month_days, 'month days'));
    var left = encoursCents_(r, 'receivables');
    if (left <= 0n) return 0;
    var elapsed = 0n;
    for (var i = 0; i < sales.length; i++) {
      var month = sales[i];
      if (month > 0n) {
        if (left <= month) return encoursTenths_((elapsed * month + left * length) * 10n, month, 'monthly sales');
        left -= month;
      }
      elapsed += length;
    }
    return Number(elapsed);
  }, [receivables]);
}

/**
 * Best possible DSO = not-yet-due receivables ÷ credit sales × days.
 *
 * @param {number} current Receivables not yet due.
 * @param {number} credit_sales Credit sales of the period.
 * @param {number} days Days in the period.
 * @return {number} Days, to 0.1.
 * @customfunction
 */
function ENCOURS_DSO_OPTIMAL(current, credit_sales, days) {
  return encoursOne_(function (c, s, d) {
    var cc = encoursCents_(c, 'current receivables');
    var sc = encoursCents_(s, 'credit sales');
    return encoursTenths_(cc * BigInt(encoursWhole_(d, 'days')) * 10n, sc, 'credit sales');
  }, [current, credit_sales, days]);
}

/**
 * ADD (average days delinquent) = DSO − best possible DSO.
 *
 * @param {number} receivables Receivables.
 * @param {number} current Receivables not yet due.
 * @param {number} credit_sales Credit sales of the period.
 * @param {number} days Days in the period.
 * @return {number} Days, to 0.1.
 * @customfunction
 */
function ENCOURS_ADD(receivables, current, credit_sales, days) {
  return encoursOne_(function (r, c, s, d) {
    var rc = encoursCents_(r, 'receivables');
    var cc = encoursCents_(c, 'current receivables');
    var sc = encoursCents_(s, 'credit sales');
    return encoursTenths_((rc - cc) * BigInt(encoursWhole_(d, 'days')) * 10n, sc, 'credit sales');
  }, [receivables, current, credit_sales, days]);
}

/**
 * CEI = (opening receivables + credit sales − closing total receivables) ÷ (opening receivables +
 * credit sales − closing current receivables) × 100, with the credit sales of the whole period.
 *
 * @param {number} opening Receivables at the start of the period.
 * @param {number} credit_sales Credit sales of the period.
 * @param {number} closing Receivables at the end of the period.
 * @param {number} current Receivables not yet due at the end of the period.
 * @return {number} Percent, to 0.1.
 * @customfunction
 */
function ENCOURS_CEI(opening, credit_sales, closing, current) {
  return encoursOne_(function (o, s, c, k) {
    var oc = encoursCents_(o, 'opening receivables');
    var sc = encoursCents_(s, 'credit sales');
    var cc = encoursCents_(c, 'closing receivables');
    var kc = encoursCents_(k, 'current receivables');
    return encoursTenths_((oc + sc - cc) * 1000n, oc + sc - kc, 'opening + sales − current');
  }, [opening, credit_sales, closing, current]);
}

// ---------------------------------------------------------------------------------------------
// Weekly cash forecast
// ---------------------------------------------------------------------------------------------

/**
 * Weekly cash forecast: each open invoice expected at its due date + its customer's average delay
 * (what is expected before the as-of date falls in the current week).  Rows: week start (Monday),
 * amount; the last row, without a date, holds what is expected later.
 *
 * @param {Array} dues Due dates of the open invoices.
 * @param {Array} amounts Amounts still due.
 * @param {Array} [delays] The customer's average delay on each line (empty: 0).
 * @param {Date} [as_of] As-of date (default: today).
 * @param {number} [weeks] Number of weeks (default 13).
 * @return {Array} Rows of week start and expected amount.
 * @customfunction
 */
function ENCOURS_PREVISION(dues, amounts, delays, as_of, weeks) {
  var day;
  var count;
  try {
    day = encoursDay_(encoursToday_(as_of), 'as-of date');
    count = encoursIsBlank_(weeks) ? 13 : encoursWhole_(weeks, 'weeks');
    if (count < 1 || count > 520) encoursFail_('weeks must be between 1 and 520');
  } catch (e) {
    if (e instanceof EncoursCellError_) return e.message;
    throw e;
  }
  var dueCells = encoursFlat_(dues);
  var amountCells = encoursFlat_(amounts);
  var delayCells = Array.isArray(delays) ? encoursFlat_(delays) : null;
  var monday = day - (((day + 3) % 7) + 7) % 7;
  var sums = [];
  for (var w = 0; w < count; w++) sums.push(0);
  var later = 0;
  for (var i = 0; i < Math.min(dueCells.length, amountCells.length); i++) {
    if (encoursIsBlank_(dueCells[i]) && encoursIsBlank_(amountCells[i])) continue;
    var due;
    var cents;
    var delay;
    try {
      due = encoursDay_(dueCells[i], 'due date');
      cents = Number(encoursCents_(amountCells[i], 'amount'));
      var cell = delayCells === null ? delays : delayCells[i];
      delay = encoursIsBlank_(cell) || encoursIsError_(cell) ? 0 : encoursNumber_(cell, 'delay');
    } catch (e) {
      if (e instanceof EncoursCellError_) continue;
      throw e;
    }
    if (cents === 0) continue;
    var expected = Math.max(due + encoursHalfUp_(delay), day);
    var index = Math.floor((expected - monday) / 7);
    if (index < count) sums[index] += cents; else later += cents;
  }
  var out = sums.map(function (s, k) { return [encoursDate_(monday + 7 * k), s / 100]; });
  out.push(['', later / 100]);
  return out;
}

if (typeof module !== 'undefined') {
  module.exports = {
    ENCOURS_JOURS_RETARD: ENCOURS_JOURS_RETARD, ENCOURS_TRANCHE: ENCOURS_TRANCHE,
    ENCOURS_INTERETS: ENCOURS_INTERETS, ENCOURS_INDEMNITE: ENCOURS_INDEMNITE, ENCOURS_SCORE: ENCOURS_SCORE,
    ENCOURS_PROFIL: ENCOURS_PROFIL, ENCOURS_SCORE_EXPLICATION: ENCOURS_SCORE_EXPLICATION,
    ENCOURS_RETARD_MOYEN: ENCOURS_RETARD_MOYEN, ENCOURS_DSO: ENCOURS_DSO, ENCOURS_DSO_COUNTBACK: ENCOURS_DSO_COUNTBACK,
    ENCOURS_DSO_OPTIMAL: ENCOURS_DSO_OPTIMAL, ENCOURS_ADD: ENCOURS_ADD, ENCOURS_CEI: ENCOURS_CEI,
    ENCOURS_PREVISION: ENCOURS_PREVISION, ENCOURS_RATES: ENCOURS_RATES
  };
}
