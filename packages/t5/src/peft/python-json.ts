/**
 * `json.dumps(value, indent=2, sort_keys=True)` as Python writes it, so that an
 * `adapter_config.json` saved here is byte-identical to the one PEFT's `save_pretrained` writes
 * for the same values (JSON.stringify differs in escaping, float spelling and key order).
 */

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest digits that round-trip, like Python.
  const [mant, expStr] = Math.abs(x).toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const digits = mant.replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  let s: string;
  if (exp < 0) s = `0.${'0'.repeat(-exp - 1)}${digits}`;
  else if (digits.length <= exp + 1) s = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  else s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return sign + s;
}

/** Python's `json` string encoding with `ensure_ascii=True`: every char outside space…`~` is escaped. */
export function pythonJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    // UTF-16 code units are escaped one by one, which is exactly Python's surrogate-pair output.
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * Serialises like `json.dumps(value, indent=indent, sort_keys=True)`. Integral numbers are
 * written as Python ints; other numbers as Python floats. `undefined` object values are skipped.
 */
export function pythonJsonDumps(value: unknown, indent = 2): string {
  const pad = (level: number) => ' '.repeat(indent * level);
  const enc = (v: unknown, level: number): string => {
    if (v === null || v === undefined) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? String(BigInt(v)) : pythonFloatRepr(v);
    if (typeof v === 'string') return pythonJsonString(v);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => pad(level + 1) + enc(x, level + 1)).join(',\n')}\n${pad(level)}]`;
    }
    if (typeof v === 'object') {
      const keys = Object.keys(v as object)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (keys.length === 0) return '{}';
      return `{\n${keys.map((k) => `${pad(level + 1)}${pythonJsonString(k)}: ${enc((v as Record<string, unknown>)[k], level + 1)}`).join(',\n')}\n${pad(level)}}`;
    }
    throw new TypeError(`cannot serialise a ${typeof v} as JSON`);
  };
  return enc(value, 0);
}
