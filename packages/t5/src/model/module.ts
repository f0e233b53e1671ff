/**
 * A minimal `nn.Module`: named parameters and children, so that every parameter's name is the HF
 * state-dict path built from the module tree (`encoder.block.0.layer.0.SelfAttention.q.weight`).
 */
import { type Generator, type Tensor, defaultGenerator, dropout } from '@tpvjs/tensor';
import { T5WeightsError } from '../weights/index.js';

/**
 * Mode shared by every module of one model: `train()` / `eval()` flip `training` once for all
 * of them, and dropout draws from `generator` (the engine's default generator when null, like
 * PyTorch's global RNG).
 */
export interface RunState {
  /** Dropout is active only when true. */
  training: boolean;
  /** Source of dropout masks; null means the engine's default generator. */
  generator: Generator | null;
}

/** Applies dropout with the model's rate when the model is in training mode. */
export function applyDropout(x: Tensor, p: number, state: RunState): Tensor {
  if (!state.training || p === 0) return x;
  return dropout(x, p, { training: true, generator: state.generator ?? defaultGenerator() });
}

/**
 * Parameters by HF name, handed to module constructors. Each module takes its own tensors by
 * the full name, so a module tree and a checkpoint can never disagree on a name silently.
 */
export class ParamTable {
  readonly #map: ReadonlyMap<string, Tensor>;
  /** @param map - HF state-dict name → tensor, e.g. from `loadT5Weights` */
  constructor(map: ReadonlyMap<string, Tensor>) {
    this.#map = map;
  }

  /** The tensor called `name`, checked against `shape`. */
  take(name: string, shape: readonly number[]): Tensor {
    const t = this.#map.get(name);
    if (!t) throw new T5WeightsError('MISSING_TENSOR', `missing tensor '${name}' [${shape.join(', ')}]`, { tensor: name });
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new T5WeightsError('SHAPE_MISMATCH', `tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`, { tensor: name });
    }
    return t;
  }
}

/** Base of every T5 module: a tree of named parameters. */
export abstract class Module {
  readonly #params: [string, Tensor][] = [];
  readonly #children: [string, Module][] = [];

  /** Registers a parameter under a local name (e.g. `weight`). */
  protected registerParameter(name: string, t: Tensor): Tensor {
    this.#params.push([name, t]);
    return t;
  }

  /** Registers a child module under a local name (e.g. `block.0`, `SelfAttention`). */
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#children.push([name, m]);
    return m;
  }

  /**
   * Every parameter with its dotted path, in registration order; a tensor registered twice
   * appears once, under its first name (like `torch.nn.Module.named_parameters`).
   */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const walk = (m: Module, p: string) => {
      for (const [n, t] of m.#params) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([p + n, t]);
      }
      for (const [n, c] of m.#children) walk(c, `${p}${n}.`);
    };
    walk(this, prefix === '' ? '' : `${prefix}.`);
    return out;
  }

  /** Every parameter tensor (deduplicated). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
}

/** `nn.Linear` without bias (T5 has none): `weight` is `[out, in]`. */
export class Linear extends Module {
  /** `[out_features, in_features]`. */
  readonly weight: Tensor;
  /** Takes `${prefix}.weight` from `params`. */
  constructor(params: ParamTable, prefix: string, outFeatures: number, inFeatures: number) {
    super();
    this.weight = this.registerParameter('weight', params.take(`${prefix}.weight`, [outFeatures, inFeatures]));
  }
}

/** `nn.Embedding`: `weight` is `[num_embeddings, dim]`. */
export class Embedding extends Module {
  /** `[num_embeddings, embedding_dim]`. */
  readonly weight: Tensor;
  /** Takes `${prefix}.weight` from `params`. */
  constructor(params: ParamTable, prefix: string, numEmbeddings: number, dim: number) {
    super();
    this.weight = this.registerParameter('weight', params.take(`${prefix}.weight`, [numEmbeddings, dim]));
  }
}
