/**
 * Allocation-free time arithmetic for the compiled evaluator. The reference interpreter does the same with regular
 * expressions and `Date`, and the property tests compare the two.
 */

export const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Month (1-12) * 32 + day of month of a day number: a small integer key for "month and day, ignoring the year". */
export function monthDayKey(days: number): number {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return month * 32 + day;
}

export function yearOfDays(days: number): number {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/**
 * Epoch milliseconds of `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.f{1,3}]](Z|±HH:MM)`; NaN for anything else
 * (including impossible dates such as 2023-02-30, which `Date.parse` rolls over).
 */
export function parseTimestamp(text: string): number {
  const n = text.length;
  if (n < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return NaN;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > MONTH_DAYS[month] || (month === 2 && day === 29 && !isLeapYear(year))) return NaN;
  const dayMs = daysFromCivil(year, month, day) * DAY_MS;
  if (n === 10) return dayMs;
  if (n < 17 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58) return NaN;
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return NaN;
  let at = 16;
  let second = 0;
  let millis = 0;
  if (text.charCodeAt(at) === 58) {
    second = digits(text, at + 1, 2);
    if (second < 0 || second > 59) return NaN;
    at += 3;
    if (text.charCodeAt(at) === 46) {
      at++;
      let count = 0;
      while (count < 3 && at < n) {
        const c = text.charCodeAt(at) - 48;
        if (c < 0 || c > 9) break;
        millis = millis * 10 + c;
        count++;
        at++;
      }
      if (count === 0) return NaN;
      millis *= count === 1 ? 100 : count === 2 ? 10 : 1;
    }
  }
  let offset = 0;
  const zone = text.charCodeAt(at);
  if (zone === 90) {
    at++;
  } else if (zone === 43 || zone === 45) {
    if (text.charCodeAt(at + 3) !== 58) return NaN;
    const oh = digits(text, at + 1, 2);
    const om = digits(text, at + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offset = (zone === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
    at += 6;
  } else {
    return NaN;
  }
  if (at !== n) return NaN;
  return dayMs + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offset;
}
