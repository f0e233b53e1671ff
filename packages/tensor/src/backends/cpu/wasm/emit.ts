/**
 * A tiny WebAssembly binary emitter: just enough of the format (LEB128, the type / function /
 * memory / export / code sections, and the handful of MVP and SIMD opcodes the CPU kernels use)
 * to assemble a module from TypeScript at load time. The project has no wasm toolchain, and a
 * few hundred bytes of generated code are cheaper to build on the fly than to ship as a blob;
 * generating the code from TS also lets the kernels be unrolled programmatically.
 *
 * Method names follow the WAT mnemonics (`local.get` → `local_get`), so kernel sources read
 * like the text format. Opcodes are from the WebAssembly 2.0 core spec (binary format,
 * §5.4 "Instructions"); SIMD ones are `0xFD` followed by a LEB128 u32 sub-opcode.
 */

/** Value type bytes (spec §5.3.1). */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
} as const;
/** A value type byte. */
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Appends the unsigned LEB128 encoding of `n` (a non-negative integer below 2³²). */
export function uleb(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`uleb: ${n} is not a u32`);
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128); // not `>>>`: values ≥ 2³¹ must stay positive
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

/** Appends the signed LEB128 encoding of `n` (an integer in the i32 range). */
export function sleb(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`sleb: ${n} is not an i32`);
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7; // arithmetic shift keeps the sign
    // Done once the rest is pure sign extension of the bit just written (bit 6 of `byte`).
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function utf8Name(out: number[], s: string): void {
  const b = new TextEncoder().encode(s);
  uleb(out, b.length);
  for (const x of b) out.push(x);
}

/** Block type "no results" (spec §5.4.1), used by every structured instruction here. */
const EMPTY_BLOCK = 0x40;

/** The SIMD prefix byte; the sub-opcode follows as a LEB128 u32. */
const SIMD = 0xfd;

/**
 * An instruction sequence (a function body's expression without its final `end`). Each method
 * appends one instruction and returns `this` so sequences chain like WAT lines.
 */
export class Code {
  /** The encoded instructions so far. */
  readonly bytes: number[] = [];

  private op(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  private simd(sub: number): this {
    this.bytes.push(SIMD);
    uleb(this.bytes, sub);
    return this;
  }
  /** memarg = align (log2 of the byte alignment hint) then offset, both u32 LEB128. */
  private memarg(alignLog2: number, offset: number): this {
    uleb(this.bytes, alignLog2);
    uleb(this.bytes, offset);
    return this;
  }

  // --- control (§5.4.1) ---
  /** `block` with no results; close with {@link end}. */
  block(): this {
    return this.op(0x02, EMPTY_BLOCK);
  }
  /** `loop` with no results; a branch to it jumps back to its start. */
  loop(): this {
    return this.op(0x03, EMPTY_BLOCK);
  }
  /** `if` with no results (pops an i32 condition). */
  if(): this {
    return this.op(0x04, EMPTY_BLOCK);
  }
  /** `else` of the innermost `if`. */
  else(): this {
    return this.op(0x05);
  }
  /** `end` of the innermost block, loop or if. */
  end(): this {
    return this.op(0x0b);
  }
  /** `br depth`: 0 is the innermost enclosing block/loop. */
  br(depth: number): this {
    this.op(0x0c);
    uleb(this.bytes, depth);
    return this;
  }
  /** `br_if depth` (pops an i32 condition). */
  br_if(depth: number): this {
    this.op(0x0d);
    uleb(this.bytes, depth);
    return this;
  }

  // --- variables (§5.4.4) ---
  /** `local.get i`. */
  local_get(i: number): this {
    this.op(0x20);
    uleb(this.bytes, i);
    return this;
  }
  /** `local.set i`. */
  local_set(i: number): this {
    this.op(0x21);
    uleb(this.bytes, i);
    return this;
  }
  /** `local.tee i` (set and keep the value on the stack). */
  local_tee(i: number): this {
    this.op(0x22);
    uleb(this.bytes, i);
    return this;
  }

  // --- numeric (§5.4.7) ---
  /** `i32.const n`. */
  i32_const(n: number): this {
    this.op(0x41);
    sleb(this.bytes, n | 0);
    return this;
  }
  /** `i32.eqz`. */
  i32_eqz(): this {
    return this.op(0x45);
  }
  /** `i32.ne`. */
  i32_ne(): this {
    return this.op(0x47);
  }
  /** `i32.lt_u`. */
  i32_lt_u(): this {
    return this.op(0x49);
  }
  /** `i32.ge_u`. */
  i32_ge_u(): this {
    return this.op(0x4f);
  }
  /** `i32.add`. */
  i32_add(): this {
    return this.op(0x6a);
  }
  /** `i32.sub`. */
  i32_sub(): this {
    return this.op(0x6b);
  }
  /** `i32.mul`. */
  i32_mul(): this {
    return this.op(0x6c);
  }

  // --- memory (§5.4.6) ---
  /** `f32.load offset=…` (align hint 4 bytes). */
  f32_load(offset = 0): this {
    return this.op(0x2a).memarg(2, offset);
  }
  /** `f32.store offset=…`. */
  f32_store(offset = 0): this {
    return this.op(0x38).memarg(2, offset);
  }

  // --- SIMD (§5.4.8) ---
  /** `v128.load offset=…` (0xFD 0): the align hint is 16 bytes; misalignment is legal, only slower. */
  v128_load(offset = 0): this {
    return this.simd(0x00).memarg(4, offset);
  }
  /** `v128.load32_splat offset=…` (0xFD 9): load one f32/i32 and broadcast it to 4 lanes. */
  v128_load32_splat(offset = 0): this {
    return this.simd(0x09).memarg(2, offset);
  }
  /** `v128.store offset=…` (0xFD 11). */
  v128_store(offset = 0): this {
    return this.simd(0x0b).memarg(4, offset);
  }
  /** `v128.const` (0xFD 12) with 16 literal bytes (lane 0 first). */
  v128_const(bytes: ArrayLike<number> = new Uint8Array(16)): this {
    if (bytes.length !== 16) throw new RangeError('v128.const takes 16 bytes');
    this.simd(0x0c);
    for (let i = 0; i < 16; i++) this.bytes.push(bytes[i]! & 0xff);
    return this;
  }
  /** `f32x4.splat` (0xFD 19): f32 → 4 lanes. */
  f32x4_splat(): this {
    return this.simd(0x13);
  }
  /** `f32x4.add` (0xFD 228). */
  f32x4_add(): this {
    return this.simd(0xe4);
  }
  /** `f32x4.mul` (0xFD 230). */
  f32x4_mul(): this {
    return this.simd(0xe6);
  }
}

/** One function of a module: its signature, extra locals (after the params) and body. */
export interface FuncDef {
  /** Export name (every function here is exported). */
  name: string;
  params: ValType[];
  results: ValType[];
  /** Declared locals, numbered after the params. */
  locals: ValType[];
  body: Code;
}

/**
 * A shared memory the module imports instead of defining its own, so that several instances
 * (one per worker thread) can run on the same bytes.
 */
export interface SharedMemoryImport {
  /** Import module and field names (`new WebAssembly.Instance(m, { [module]: { [name]: mem } })`). */
  module: string;
  name: string;
  /** Shared memories must declare a maximum (spec §3.2.8: `shared` limits need `max`). */
  maxPages: number;
}

/**
 * What {@link emitModule} assembles: one memory, exported, plus functions. The memory is
 * defined by the module (growable without a ceiling), or with `shared` imported as a shared
 * memory with the given maximum.
 */
export interface ModuleDef {
  memory: { exportName: string; minPages: number; shared?: SharedMemoryImport };
  funcs: FuncDef[];
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  for (const x of content) out.push(x);
}

/** Run-length groups consecutive equal local types, as the code section stores them. */
function localGroups(locals: ValType[]): Array<[number, ValType]> {
  const groups: Array<[number, ValType]> = [];
  for (const t of locals) {
    const last = groups[groups.length - 1];
    if (last && last[1] === t) last[0]++;
    else groups.push([1, t]);
  }
  return groups;
}

/**
 * Assembles a module (spec §5.5): type, function, memory, export and code sections, in the
 * order the spec requires. Each function gets its own type entry (no dedup: there are few).
 */
export function emitModule(def: ModuleDef): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1

  const types: number[] = [];
  uleb(types, def.funcs.length);
  for (const f of def.funcs) {
    types.push(0x60); // func type
    uleb(types, f.params.length);
    for (const p of f.params) types.push(p);
    uleb(types, f.results.length);
    for (const r of f.results) types.push(r);
  }
  section(out, 1, types);

  const shared = def.memory.shared;
  if (shared) {
    if (!(shared.maxPages >= def.memory.minPages)) throw new RangeError(`emitModule: maxPages ${shared.maxPages} < minPages ${def.memory.minPages}`);
    // Import section (§5.5.5) comes before the function section; an imported memory takes
    // memory index 0, so the export below refers to it unchanged.
    const imps: number[] = [];
    uleb(imps, 1);
    utf8Name(imps, shared.module);
    utf8Name(imps, shared.name);
    imps.push(0x02); // memory
    imps.push(0x03); // limits: min and max, shared (threads proposal, now in wasm 3.0)
    uleb(imps, def.memory.minPages);
    uleb(imps, shared.maxPages);
    section(out, 2, imps);
  }

  const funcs: number[] = [];
  uleb(funcs, def.funcs.length);
  def.funcs.forEach((_, i) => uleb(funcs, i)); // function i has type i
  section(out, 3, funcs);

  if (!shared) {
    const mem: number[] = [];
    uleb(mem, 1);
    mem.push(0x00); // limits: min only, so JS can grow it without a declared ceiling
    uleb(mem, def.memory.minPages);
    section(out, 5, mem);
  }

  const exps: number[] = [];
  uleb(exps, def.funcs.length + 1);
  def.funcs.forEach((f, i) => {
    utf8Name(exps, f.name);
    exps.push(0x00); // func
    uleb(exps, i);
  });
  utf8Name(exps, def.memory.exportName);
  exps.push(0x02); // memory
  uleb(exps, 0);
  section(out, 7, exps);

  const code: number[] = [];
  uleb(code, def.funcs.length);
  for (const f of def.funcs) {
    const body: number[] = [];
    const groups = localGroups(f.locals);
    uleb(body, groups.length);
    for (const [n, t] of groups) {
      uleb(body, n);
      body.push(t);
    }
    for (const x of f.body.bytes) body.push(x);
    body.push(0x0b); // end of the function's expression
    uleb(code, body.length);
    for (const x of body) code.push(x);
  }
  section(out, 10, code);

  return new Uint8Array(out);
}
