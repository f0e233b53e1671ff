/**
 * SentencePiece text normalization: the precompiled charsmap (a darts-clone
 * double-array trie of rewrite rules, e.g. `nmt_nfkc`) plus the whitespace
 * handling of `Normalizer::Normalize` in sentencepiece's `normalizer.cc`.
 *
 * Why not `String.prototype.normalize('NFKC')`? `nmt_nfkc` is NFKC *plus* NMT-specific
 * rules (control characters and many invisible characters become a space or vanish,
 * some compatibility mappings differ), and the rules are frozen at the Unicode
 * version the model was built with. Only replaying the model's own charsmap gives
 * byte-identical input to the segmenter, which is what id parity requires.
 *
 * Everything here works on UTF-8 bytes, like the C++ code, so that byte-level
 * details (longest match measured in bytes, one-character fallback) are the same.
 *
 * @module
 */

import { TokenizerError } from './errors.js';

/** The UTF-8 bytes of `▁` (U+2581), SentencePiece's visible whitespace marker. */
export const SPACE_SYMBOL_BYTES: Uint8Array = Uint8Array.of(0xe2, 0x96, 0x81);

/** `▁` (U+2581), SentencePiece's visible whitespace marker. */
export const SPACE_SYMBOL = '\u2581';

const SPACE = 0x20;
const REPLACEMENT_CHAR = Uint8Array.of(0xef, 0xbf, 0xbd);

/**
 * Length in bytes of the UTF-8 sequence starting with lead byte `b`, exactly as
 * sentencepiece's `string_util::OneCharLen` (a 16-entry table on the high nibble;
 * continuation bytes count as length 1).
 */
export function oneCharLen(b: number): number {
  return ONE_CHAR_LEN[b >> 4]!;
}
const ONE_CHAR_LEN = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4];

const isTrail = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80;
const isValidCodepoint = (c: number): boolean => (c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff));

/**
 * Port of sentencepiece's `string_util::IsValidDecodeUTF8`: the byte length of the
 * character at `pos`, or 0 when it is malformed UTF-8 (then the caller consumes one
 * byte and emits U+FFFD). A literal, well-formed U+FFFD is valid.
 */
export function validUtf8Len(bytes: Uint8Array, pos: number, end: number): number {
  const b0 = bytes[pos]!;
  const len = end - pos;
  if (b0 < 0x80) return 1;
  if (len >= 2 && (b0 & 0xe0) === 0xc0) {
    const b1 = bytes[pos + 1]!;
    const cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
    if (isTrail(b1) && cp >= 0x80 && isValidCodepoint(cp)) return 2;
  } else if (len >= 3 && (b0 & 0xf0) === 0xe0) {
    const b1 = bytes[pos + 1]!;
    const b2 = bytes[pos + 2]!;
    const cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
    if (isTrail(b1) && isTrail(b2) && cp >= 0x800 && isValidCodepoint(cp)) return 3;
  } else if (len >= 4 && (b0 & 0xf8) === 0xf0) {
    const b1 = bytes[pos + 1]!;
    const b2 = bytes[pos + 2]!;
    const b3 = bytes[pos + 3]!;
    const cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
    if (isTrail(b1) && isTrail(b2) && isTrail(b3) && cp >= 0x10000 && isValidCodepoint(cp)) return 4;
  }
  return 0;
}

/**
 * Read-only view of a darts-clone `Darts::DoubleArray` (the trie format used both by
 * the charsmap and by sentencepiece's vocabularies), with the unit bit layout of
 * `darts.h`'s `DoubleArrayUnit`.
 */
export class DartsDoubleArray {
  /**
   * @param units - the trie's 32-bit units (host order).
   */
  constructor(private readonly units: Uint32Array) {}

  /** Number of 32-bit units in the array. */
  get size(): number {
    return this.units.length;
  }

  /**
   * `DoubleArrayImpl::commonPrefixSearch` over `key[start, end)`: calls `onMatch` for
   * every key in the trie that is a prefix of the input, shortest first, with the
   * match length in bytes and the stored value.
   */
  commonPrefixSearch(
    key: Uint8Array,
    start: number,
    end: number,
    onMatch: (length: number, value: number) => void,
  ): void {
    const units = this.units;
    let nodePos = 0;
    let unit = units[nodePos];
    if (unit === undefined) return;
    nodePos ^= offsetOf(unit);
    for (let i = start; i < end; i++) {
      const c = key[i]!;
      nodePos ^= c;
      unit = units[nodePos];
      // label(): the low byte plus the leaf flag (bit 31), so value units never match a label.
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== c) return;
      nodePos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        const valueUnit = units[nodePos];
        if (valueUnit === undefined) return;
        onMatch(i - start + 1, valueUnit & 0x7fffffff);
      }
    }
  }
}

/** `DoubleArrayUnit::offset()`: bits 10..31, shifted left by 8 when bit 9 is set. */
function offsetOf(unit: number): number {
  return ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
}

/**
 * A compiled SentencePiece normalization rule set (`NormalizerSpec.precompiled_charsmap`).
 *
 * Blob layout (little-endian): `[u32 trie byte size][darts-clone trie units][NUL-separated
 * replacement strings]`; a trie value is the byte offset of its replacement string.
 */
export class PrecompiledCharsmap {
  private readonly trie: DartsDoubleArray;
  private readonly normalized: Uint8Array;
  /** Replacement strings by offset, cut at their NUL once and reused. */
  private readonly cache = new Map<number, Uint8Array>();

  private constructor(trie: DartsDoubleArray, normalized: Uint8Array) {
    this.trie = trie;
    this.normalized = normalized;
  }

  /**
   * Decodes a charsmap blob, with the checks of `Normalizer::DecodePrecompiledCharsMap`.
   *
   * @param blob - the raw `precompiled_charsmap` bytes.
   * @param source - file name for error messages.
   * @throws {@link TokenizerError} `INVALID_CHARSMAP` when the blob is truncated.
   */
  static parse(blob: Uint8Array, source = '<charsmap>'): PrecompiledCharsmap {
    if (blob.length <= 4) {
      throw new TokenizerError('INVALID_CHARSMAP', `${source}: precompiled charsmap is too short (${blob.length} bytes)`, {
        file: source,
      });
    }
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize >= blob.length || trieSize + 4 > blob.length) {
      throw new TokenizerError(
        'INVALID_CHARSMAP',
        `${source}: precompiled charsmap trie size ${trieSize} exceeds the blob size ${blob.length}`,
        { file: source },
      );
    }
    // Copy the units out: the blob may not be 4-byte aligned, and Uint32Array needs alignment.
    const unitCount = Math.floor(trieSize / 4);
    const units = new Uint32Array(unitCount);
    for (let i = 0; i < unitCount; i++) units[i] = view.getUint32(4 + 4 * i, true);
    return new PrecompiledCharsmap(new DartsDoubleArray(units), blob.slice(4 + trieSize));
  }

  /**
   * The longest rule matching `input` at `pos`: its source length in bytes and its
   * replacement bytes, or `undefined` when no rule applies (the caller then copies one
   * character unchanged).
   */
  longestMatch(input: Uint8Array, pos: number, end: number): { length: number; replacement: Uint8Array } | undefined {
    let longestLength = 0;
    let longestValue = 0;
    this.trie.commonPrefixSearch(input, pos, end, (length, value) => {
      if (longestLength === 0 || length > longestLength) {
        longestLength = length;
        longestValue = value;
      }
    });
    if (longestLength === 0) return undefined;
    return { length: longestLength, replacement: this.replacementAt(longestValue) };
  }

  private replacementAt(offset: number): Uint8Array {
    let r = this.cache.get(offset);
    if (r === undefined) {
      // The C++ code builds a string_view from a C string: it stops at the first NUL.
      let stop = offset;
      while (stop < this.normalized.length && this.normalized[stop] !== 0) stop++;
      r = this.normalized.subarray(Math.min(offset, stop), stop);
      this.cache.set(offset, r);
    }
    return r;
  }
}

/** Settings of a {@link Normalizer}; mirror `NormalizerSpec` / `TrainerSpec` fields. */
export interface NormalizerOptions {
  /** Compiled rules; `undefined` or empty for identity. */
  readonly precompiledCharsmap?: Uint8Array | undefined;
  /** Prepend `▁` (default true). */
  readonly addDummyPrefix: boolean;
  /** Strip leading/trailing whitespace and collapse repeated whitespace (default true). */
  readonly removeExtraWhitespaces: boolean;
  /** Write spaces as `▁` (default true). */
  readonly escapeWhitespaces: boolean;
  /** Whitespace marker as a suffix instead of a prefix (default false). */
  readonly treatWhitespaceAsSuffix?: boolean | undefined;
  /**
   * User-defined pieces: matched first, longest first, and copied verbatim (never
   * normalized) — sentencepiece's `PrefixMatcher`.
   */
  readonly userDefinedSymbols?: readonly string[] | undefined;
  /** File name for error messages. */
  readonly source?: string | undefined;
}

/** Growable byte buffer, so normalization does not build intermediate strings. */
class ByteBuilder {
  buf: Uint8Array;
  length = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }
  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + extra));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  push(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }
  append(bytes: Uint8Array, start = 0, end = bytes.length): void {
    this.reserve(end - start);
    this.buf.set(bytes.subarray(start, end), this.length);
    this.length += end - start;
  }
  endsWith(suffix: Uint8Array): boolean {
    if (this.length < suffix.length) return false;
    for (let i = 0; i < suffix.length; i++) {
      if (this.buf[this.length - suffix.length + i] !== suffix[i]) return false;
    }
    return true;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A byte trie of user-defined symbols (sentencepiece's `PrefixMatcher`). */
class PrefixMatcher {
  private readonly edges = new Map<number, number>();
  private readonly terminal = new Set<number>();
  private nodes = 1;

  constructor(symbols: readonly string[]) {
    const enc = new TextEncoder();
    for (const s of symbols) {
      const bytes = enc.encode(s);
      if (bytes.length === 0) continue;
      let node = 0;
      for (const b of bytes) {
        const key = node * 256 + b;
        let next = this.edges.get(key);
        if (next === undefined) {
          next = this.nodes++;
          this.edges.set(key, next);
        }
        node = next;
      }
      this.terminal.add(node);
    }
  }

  /** Byte length of the longest symbol at `pos`, or 0. */
  longest(input: Uint8Array, pos: number, end: number): number {
    let node = 0;
    let best = 0;
    for (let i = pos; i < end; i++) {
      const next = this.edges.get(node * 256 + input[i]!);
      if (next === undefined) break;
      node = next;
      if (this.terminal.has(node)) best = i - pos + 1;
    }
    return best;
  }
}

/**
 * SentencePiece's `Normalizer`: charsmap rewriting plus whitespace handling, producing
 * the exact byte string the segmentation model sees (spaces escaped as `▁`).
 */
export class Normalizer {
  private readonly charsmap: PrecompiledCharsmap | undefined;
  private readonly matcher: PrefixMatcher | undefined;
  private readonly encoder = new TextEncoder();

  /**
   * @param options - normalization settings (from the model's `NormalizerSpec`).
   * @throws {@link TokenizerError} `INVALID_CHARSMAP` for a broken charsmap blob.
   */
  constructor(readonly options: NormalizerOptions) {
    const blob = options.precompiledCharsmap;
    this.charsmap = blob && blob.length > 0 ? PrecompiledCharsmap.parse(blob, options.source) : undefined;
    const symbols = options.userDefinedSymbols ?? [];
    this.matcher = symbols.length > 0 ? new PrefixMatcher(symbols) : undefined;
  }

  /**
   * `Normalizer::NormalizePrefix`: normalizes the first unit of `input[pos, end)`.
   * @returns the replacement bytes and how many input bytes they consume.
   */
  private normalizePrefix(input: Uint8Array, pos: number, end: number): { out: Uint8Array; consumed: number } {
    if (this.matcher) {
      const n = this.matcher.longest(input, pos, end);
      // User-defined symbols are kept as written so the model can match them.
      if (n > 0) return { out: input.subarray(pos, pos + n), consumed: n };
    }
    const m = this.charsmap?.longestMatch(input, pos, end);
    if (m) return { out: m.replacement, consumed: m.length };
    const len = validUtf8Len(input, pos, end);
    // Malformed UTF-8: emit U+FFFD but consume only one byte, as the C++ code does.
    if (len === 0) return { out: REPLACEMENT_CHAR, consumed: 1 };
    return { out: input.subarray(pos, pos + len), consumed: len };
  }

  /**
   * Normalizes `text` (UTF-16 JS string, converted to UTF-8 first; lone surrogates
   * become U+FFFD) and returns the normalized UTF-8 bytes.
   */
  normalize(text: string): Uint8Array {
    return this.normalizeBytes(this.encoder.encode(text));
  }

  /** Same as {@link Normalizer.normalize}, returning a string (for debugging and tests). */
  normalizeToString(text: string): string {
    return new TextDecoder().decode(this.normalize(text));
  }

  /** `Normalizer::Normalize` on UTF-8 bytes. */
  normalizeBytes(input: Uint8Array): Uint8Array {
    const { addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces } = this.options;
    const suffix = this.options.treatWhitespaceAsSuffix ?? false;
    const end = input.length;
    let pos = 0;
    if (end === 0) return new Uint8Array(0);

    // Leading whitespace: skip units that normalize to exactly " ".
    if (removeExtraWhitespaces) {
      while (pos < end) {
        const p = this.normalizePrefix(input, pos, end);
        if (!(p.out.length === 1 && p.out[0] === SPACE)) break;
        pos += p.consumed;
      }
    }
    if (pos >= end) return new Uint8Array(0);

    const out = new ByteBuilder((end - pos) * 3);
    const addWs = (): void => {
      if (escapeWhitespaces) out.append(SPACE_SYMBOL_BYTES);
      else out.push(SPACE);
    };
    if (!suffix && addDummyPrefix) addWs();

    let isPrevSpace = removeExtraWhitespaces;
    while (pos < end) {
      const p = this.normalizePrefix(input, pos, end);
      let s = 0;
      const sp = p.out;
      // Drop spaces that follow a space (collapses runs of whitespace).
      if (isPrevSpace) while (s < sp.length && sp[s] === SPACE) s++;
      if (s < sp.length) {
        for (let n = s; n < sp.length; n++) {
          const b = sp[n]!;
          if (escapeWhitespaces && b === SPACE) out.append(SPACE_SYMBOL_BYTES);
          else out.push(b);
        }
        isPrevSpace = sp[sp.length - 1] === SPACE;
      }
      pos += p.consumed;
      if (!removeExtraWhitespaces) isPrevSpace = false;
    }

    // Trailing whitespace (this may also remove the dummy prefix when nothing else is left).
    if (removeExtraWhitespaces) {
      const space = escapeWhitespaces ? SPACE_SYMBOL_BYTES : Uint8Array.of(SPACE);
      while (out.endsWith(space)) out.length -= space.length;
    }
    if (suffix && addDummyPrefix) addWs();
    return out.result();
  }
}
