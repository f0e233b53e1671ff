import { engine } from './engine.js';
import { TensorError } from './errors.js';
import type { GradNode, Tensor } from './tensor.js';
import { keep } from './tidy.js';
import * as F from '../ops/index.js';

/**
 * Records `node` as the way `out` was made, but only when grad mode is on and at least one
 * input requires grad: frozen weights therefore cost no graph, no saved tensors and no
 * gradient work.
 */
export function record(out: Tensor, name: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (!engine.gradEnabled) return out;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) any = true;
  if (!any) return out;
  out.requiresGrad = true;
  out._node = { name, inputs, backward };
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<number>();
  // Iterative DFS: T5 graphs are deep enough to overflow a recursive one.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root.id);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t._node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const c = inputs[i]!;
      if (c.requiresGrad && !seen.has(c.id)) {
        seen.add(c.id);
        stack.push([c, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order.reverse();
}

/** Reverse-mode differentiation from `root`; see {@link Tensor.backward}. */
export function backward(root: Tensor, grad: Tensor | undefined, retainGraph: boolean): void {
  if (!root.requiresGrad) {
    throw new TensorError('AUTOGRAD', 'backward() called on a tensor that does not require grad');
  }
  if (!grad && root.size !== 1) {
    throw new TensorError('AUTOGRAD', `backward() without a gradient needs a one-element tensor, got [${root.shape.join(', ')}]`);
  }
  const prev = engine.gradEnabled;
  engine.gradEnabled = false;
  const grads = new Map<number, Tensor>();
  try {
    const order = topoOrder(root);
    grads.set(root.id, grad ? F.clone(grad) : F.onesLike(root));
    for (const t of order) {
      const g = grads.get(t.id);
      if (!g) continue;
      grads.delete(t.id);
      const node = t._node;
      if (!node) {
        if (t.requiresGrad) accumulate(t, g);
        else g.dispose();
        continue;
      }
      const gs = node.backward(g);
      const used = new Set<Tensor>();
      for (let i = 0; i < node.inputs.length; i++) {
        const inp = node.inputs[i]!;
        let gi = gs[i];
        if (!gi || !inp.requiresGrad) {
          if (gi && gi !== g && !used.has(gi) && !gs.slice(i + 1).includes(gi)) gi.dispose();
          continue;
        }
        // Backward rules may pass the output gradient straight through (or return one tensor
        // for two inputs); give each consumer its own reference so disposal stays exact.
        if (gi === g || used.has(gi)) gi = gi._view(gi.shape);
        used.add(gi);
        if (gi.shape.length !== inp.shape.length || gi.shape.some((d, k) => d !== inp.shape[k])) {
          throw new TensorError('AUTOGRAD', `gradient of ${node.name} input ${i} has shape [${gi.shape.join(', ')}], expected [${inp.shape.join(', ')}]`);
        }
        const old = grads.get(inp.id);
        if (old) {
          grads.set(inp.id, F.add(old, gi));
          old.dispose();
          gi.dispose();
        } else {
          grads.set(inp.id, gi);
        }
      }
      g.dispose();
      if (!retainGraph) t._node = null;
    }
  } finally {
    for (const g of grads.values()) g.dispose();
    engine.gradEnabled = prev;
  }
}

function accumulate(leaf: Tensor, g: Tensor): void {
  const gc = g.dtype === leaf.dtype ? g : F.cast(g, leaf.dtype);
  if (gc !== g) g.dispose();
  if (leaf.grad) {
    const sum = F.add(leaf.grad, gc);
    leaf.grad.dispose();
    gc.dispose();
    leaf.grad = keep(sum);
  } else {
    leaf.grad = keep(gc);
  }
}
