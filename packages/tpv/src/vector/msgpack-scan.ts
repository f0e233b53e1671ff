/**
 * A structural pre-scan of MessagePack bytes that allocates nothing, run before the real decoder.
 *
 * Why: `@msgpack/msgpack` allocates `new Array(n)` as soon as it reads an array header, before the
 * items are there, and it has no depth limit. A 1 MB file of nested `array16(1024)` headers (3 bytes
 * each) would make it allocate ~333k arrays of 1024 slots, gigabytes from a small file. Its
 * `maxArrayLength`/`maxMapLength` options bound each container but not the product. This walk checks
 * that every declared container size is actually backed by bytes, and bounds the nesting depth and the
 * total number of values, so the decode that follows allocates O(file size).
 *
 * @module
 */

/** Limits for {@link scanMsgpack}. */
export interface MsgpackScanLimits {
  /** Deepest container nesting accepted (the top-level value is depth 0). */
  readonly maxDepth: number;
  /** Most values (including map keys and containers) accepted in total. */
  readonly maxNodes: number;
  /** Whether extension types are accepted (`.tpv` uses none). */
  readonly allowExt: boolean;
}

/** Why a scan failed; `offset` is where in the bytes. */
export interface MsgpackScanProblem {
  readonly message: string;
  readonly offset: number;
}

/**
 * Walks one MessagePack value spanning all of `bytes`.
 *
 * @param bytes - the encoded value.
 * @param limits - depth, value-count and extension limits.
 * @returns `undefined` when the bytes are one well-formed value within the limits, else the problem.
 */
export function scanMsgpack(bytes: Uint8Array, limits: MsgpackScanLimits): MsgpackScanProblem | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  // remaining[d] = values still expected in the container open at depth d (depth 0: the top-level value).
  const remaining: number[] = [1];
  let pos = 0;
  let nodes = 0;
  const need = (n: number): boolean => pos + n <= end;
  while (remaining.length > 0) {
    const top = remaining.length - 1;
    if (remaining[top] === 0) {
      remaining.pop();
      continue;
    }
    remaining[top]!--;
    if (++nodes > limits.maxNodes) return { message: `more than ${limits.maxNodes} values`, offset: pos };
    if (!need(1)) return { message: 'truncated: a value is missing', offset: pos };
    const b = bytes[pos]!;
    pos++;
    let skip = 0; // payload bytes after the head
    let children = 0; // values inside a container
    let lenBytes = 0; // size of a length field that precedes the payload
    let isExt = false;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
      skip = 0;
    } else if (b >= 0x80 && b <= 0x8f) {
      children = 2 * (b & 0x0f);
    } else if (b >= 0x90 && b <= 0x9f) {
      children = b & 0x0f;
    } else if (b >= 0xa0 && b <= 0xbf) {
      skip = b & 0x1f;
    } else {
      switch (b) {
        case 0xc4: case 0xd9: lenBytes = 1; break; // bin8, str8
        case 0xc5: case 0xda: lenBytes = 2; break; // bin16, str16
        case 0xc6: case 0xdb: lenBytes = 4; break; // bin32, str32
        case 0xc7: lenBytes = 1; isExt = true; break; // ext8
        case 0xc8: lenBytes = 2; isExt = true; break; // ext16
        case 0xc9: lenBytes = 4; isExt = true; break; // ext32
        case 0xca: skip = 4; break; // float32
        case 0xcb: skip = 8; break; // float64
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; isExt = true; break; // fixext1: type + 1
        case 0xd5: skip = 3; isExt = true; break;
        case 0xd6: skip = 5; isExt = true; break;
        case 0xd7: skip = 9; isExt = true; break;
        case 0xd8: skip = 17; isExt = true; break;
        case 0xdc: case 0xdd: case 0xde: case 0xdf: {
          const wide = b === 0xdd || b === 0xdf;
          const w = wide ? 4 : 2;
          if (!need(w)) return { message: 'truncated container header', offset: pos - 1 };
          const n = wide ? view.getUint32(pos) : view.getUint16(pos);
          pos += w;
          children = b >= 0xde ? 2 * n : n;
          break;
        }
        default:
          return { message: `byte 0x${b.toString(16)} is not a MessagePack type`, offset: pos - 1 };
      }
    }
    if (isExt && !limits.allowExt) return { message: 'extension types are not allowed', offset: pos - 1 };
    if (lenBytes > 0) {
      if (!need(lenBytes)) return { message: 'truncated length field', offset: pos - 1 };
      skip = lenBytes === 1 ? bytes[pos]! : lenBytes === 2 ? view.getUint16(pos) : view.getUint32(pos);
      pos += lenBytes;
      if (isExt) skip += 1; // the type byte
    }
    if (!need(skip)) return { message: `truncated: ${skip} payload bytes declared, ${end - pos} left`, offset: pos };
    pos += skip;
    if (children > 0) {
      // Every value takes at least one byte: a count the remaining bytes cannot hold is a lie.
      if (children > end - pos) return { message: `container declares ${children} values but only ${end - pos} bytes follow`, offset: pos };
      if (remaining.length > limits.maxDepth) return { message: `nested deeper than ${limits.maxDepth}`, offset: pos };
      remaining.push(children);
    }
  }
  if (pos !== end) return { message: `${end - pos} trailing bytes after the value`, offset: pos };
  return undefined;
}
