import type { Backend, TensorRef } from '../backends/backend.js';
import type { DType } from '../core/dtype.js';
import { TensorError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';

/** @internal the kernel-facing view of a tensor. */
export function ref(t: Tensor): TensorRef {
  return { storage: t._handle(), shape: t.shape, dtype: t.dtype };
}

/** @internal wraps a new backend buffer as a tensor. */
export function wrap(backend: Backend, handle: unknown, shape: Shape, dtype: DType): Tensor {
  return Tensor._fromHandle(backend, handle, shape, dtype);
}

/** @internal the common backend of op inputs; mixing backends is an error. */
export function backendOf(...ts: Tensor[]): Backend {
  const b = ts[0]!.backend;
  for (const t of ts) {
    if (t.backend !== b) {
      throw new TensorError('BACKEND', `op inputs live on different backends ('${b.name}' and '${t.backend.name}'); move them with await t.to(name)`);
    }
  }
  return b;
}

/** @internal a scalar tensor on `like`'s backend with `like`'s dtype. */
export function scalarLike(value: number, like: Tensor, dtype: DType = like.dtype): Tensor {
  const b = like.backend;
  return wrap(b, b.fill(1, dtype, value), [], dtype);
}
