/**
 * The size DynamoDB counts for an item given as the document client takes it (JS strings, numbers, booleans, null,
 * arrays as lists, Sets as sets, objects as maps), by the rules of
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function dynamoItemSize(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((total, [name, value]) => total + utf8(name) + valueSize(value), 0);
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return utf8(value);
  // Numbers: 1 byte per two significant digits, plus 1.
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.e+-]/g, '').replace(/^0+|0+$/g, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (value instanceof Set) return [...value].reduce((total: number, v) => total + valueSize(v), 0);
  // Lists and maps: 3 bytes, and 1 byte per element.
  if (Array.isArray(value)) return 3 + value.reduce((total: number, v) => total + 1 + valueSize(v), 0);
  if (typeof value === 'object') return 3 + Object.entries(value).reduce((total, [k, v]) => total + 1 + utf8(k) + valueSize(v), 0);
  throw new Error(`no DynamoDB size for a ${typeof value}`);
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');
