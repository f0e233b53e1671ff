import { engine } from './engine.js';
import { TensorError } from './errors.js';
import { Tensor } from './tensor.js';

function collect(value: unknown, out: Set<Tensor>, depth = 0): void {
  if (depth > 8 || value === null || value === undefined) return;
  if (value instanceof Tensor) {
    out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, depth + 1);
  } else if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value as Record<string, unknown>)) collect(v, out, depth + 1);
  }
}

/**
 * Runs `fn` and disposes every tensor it created that is neither returned (directly or
 * inside arrays/plain objects/maps) nor marked with {@link keep}. Returned tensors move to the
 * enclosing scope. `fn` must be synchronous: an async body would escape the scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  engine.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    engine.scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  engine.scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new TensorError('ARGUMENT', 'tidy() does not accept async functions; await outside tidy');
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  const parent = engine.scopes[engine.scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t)) {
      parent?.add(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

/**
 * Exempts a tensor from every enclosing {@link tidy} scope; the caller now owns it and must
 * {@link Tensor.dispose} it.
 */
export function keep<T extends Tensor>(t: T): T {
  for (const s of engine.scopes) s.delete(t);
  return t;
}

/** Disposes one tensor, or every tensor inside an array / plain object. */
export function dispose(value: unknown): void {
  const set = new Set<Tensor>();
  collect(value, set);
  for (const t of set) t.dispose();
}

/** Runs `fn` with gradient recording off (like `torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  const prev = engine.gradEnabled;
  engine.gradEnabled = false;
  try {
    return fn();
  } finally {
    engine.gradEnabled = prev;
  }
}

/** Whether ops currently record a graph for autograd. */
export function isGradEnabled(): boolean {
  return engine.gradEnabled;
}
