/**
 * The ATTEMPT baseline (mission spec §9): an instance-dependent mixture of frozen source prompts
 * and a trainable target prompt, weighted by a small attention sub-network over the input.
 */
import {
  type DType, Generator, type Tensor, add, cat, clone, div, keep, layerNorm, linear, matmul, max, mul, noGrad, ones, rand,
  reshape, silu, softmax, sub, tidy, transpose, unsqueeze, zeros,
} from '@tpvjs/tensor';

/** The trainable attention sub-network of {@link AttemptPrompt} (shared by all targets). */
export interface AttemptAttention {
  /** Down projection `[hidden, d]` (an `nn.Linear(d, hidden, bias=False)` weight). */
  wDown: Tensor;
  /** Up projection `[d, hidden]` (an `nn.Linear(hidden, d, bias=False)` weight). */
  wUp: Tensor;
  /** LayerNorm scale γ `[d]`. */
  gamma: Tensor;
  /** LayerNorm shift β `[d]`. */
  beta: Tensor;
}

/** Options of {@link AttemptPrompt}. */
export interface AttemptPromptOptions {
  /** Frozen source prompts S_1..S_m, each `[L, d]` (copied; the caller keeps ownership of these). */
  sources: readonly Tensor[];
  /** Number of target prompts (one per target dataset with `shared_attn`; default 1). */
  numTargets?: number;
  /** Width of the attention bottleneck (default 100, as in ATT and ATT-orig). */
  hidden?: number;
  /** Softmax temperature T (default 2087 ≈ d·e for d = 768, the value ATT uses). */
  temperature?: number;
  /** Seeded generator for W_down / W_up (default seed 0, so construction is reproducible). */
  generator?: Generator;
  /** LayerNorm epsilon (default 1e-5, PyTorch's `nn.LayerNorm` default). */
  eps?: number;
}

/** Default softmax temperature of the ATTEMPT baseline (spec §9). */
export const ATTEMPT_TEMPERATURE = 2087;

/** `nn.Linear` default init (kaiming-uniform with a = √5): U(−1/√fan_in, 1/√fan_in), shape `[out, in]`. */
function linearInit(out: number, inF: number, dtype: DType, generator: Generator): Tensor {
  const bound = 1 / Math.sqrt(inF);
  // tidy frees the intermediates; noGrad keeps the result a leaf that can then require grad.
  return noGrad(() => tidy(() => mul(sub(mul(rand([out, inF], { dtype, generator }), 2), 1), bound))).requiresGrad_(true);
}

/**
 * The ATTEMPT instance prompts as a pure function of its tensors, so gradients can be checked
 * against each input separately (see {@link AttemptPrompt.instancePrompts} for the method form).
 *
 * Per example: x = max over tokens of X (ATT calls this "avg" but it is a max, pads included);
 * h = LayerNorm(W_up·SiLU(W_down·x)); C = [S_1..S_m, P]; c_j = max over the L rows of C_j;
 * a = softmax_j(c_j·h / T); P_inst = Σ_j a_j·C_j + P.
 *
 * @param inputsEmbeds - input embeddings `[B, Lin, d]`
 * @param sources - source prompts, each `[L, d]`
 * @param target - the target prompt P `[L, d]`
 * @returns `[B, L, d]`
 */
export function attemptInstancePrompts(
  inputsEmbeds: Tensor,
  sources: readonly Tensor[],
  target: Tensor,
  attn: AttemptAttention,
  temperature = ATTEMPT_TEMPERATURE,
  eps = 1e-5,
): Tensor {
  const [b] = inputsEmbeds.shape as [number, number, number];
  const [l, d] = target.shape as [number, number];
  const x = max(inputsEmbeds, 1); // [B, d]
  const h = layerNorm(linear(silu(linear(x, attn.wDown)), attn.wUp), attn.gamma, attn.beta, eps); // [B, d]
  const k = sources.length + 1;
  const cands = cat([...sources, target].map((c) => unsqueeze(c, 0)), 0); // [k, L, d]
  const keys = max(cands, 1); // [k, d]
  // Division (not multiplication by 1/T) mirrors the reference's `/ T` bit for bit in float32.
  const a = softmax(div(matmul(h, transpose(keys, 0, 1)), temperature), -1); // [B, k]
  const mix = reshape(matmul(a, reshape(cands, [k, l * d])), [b, l, d]);
  return add(mix, target);
}

/**
 * ATTEMPT's prompt module: frozen source prompts, trainable target prompt(s) initialised from the
 * first source, and the shared attention sub-network. Owns its tensors; call {@link dispose}.
 */
export class AttemptPrompt {
  /** Frozen source prompts `[L, d]` (never require gradients). */
  readonly sources: readonly Tensor[];
  /** Trainable target prompts `[L, d]`, one per target dataset. */
  readonly targets: readonly Tensor[];
  /** The trainable attention sub-network. */
  readonly attention: AttemptAttention;
  /** Softmax temperature T. */
  readonly temperature: number;
  /** LayerNorm epsilon. */
  readonly eps: number;

  /** Builds the module; see {@link AttemptPromptOptions}. */
  constructor(options: AttemptPromptOptions) {
    const { sources } = options;
    if (sources.length === 0) throw new Error('AttemptPrompt needs at least one source prompt');
    const s0 = sources[0]!;
    if (s0.rank !== 2) throw new Error(`source prompts must be [L, d], got [${s0.shape.join(', ')}]`);
    for (const s of sources) {
      if (s.rank !== 2 || s.shape[0] !== s0.shape[0] || s.shape[1] !== s0.shape[1] || s.dtype !== s0.dtype) {
        throw new Error(`all source prompts must share shape [${s0.shape.join(', ')}] and dtype ${s0.dtype}`);
      }
    }
    const d = s0.shape[1]!;
    const dtype = s0.dtype;
    const hidden = options.hidden ?? 100;
    const numTargets = options.numTargets ?? 1;
    const gen = options.generator ?? new Generator(0);
    this.temperature = options.temperature ?? ATTEMPT_TEMPERATURE;
    this.eps = options.eps ?? 1e-5;
    // Copies under noGrad: the sources are constants here, and copying decouples our lifetime from the caller's.
    this.sources = noGrad(() => sources.map((s) => keep(clone(s))));
    // ATT initialises every target prompt from the first source prompt.
    this.targets = noGrad(() => Array.from({ length: numTargets }, () => keep(clone(s0).requiresGrad_(true))));
    this.attention = {
      wDown: keep(linearInit(hidden, d, dtype, gen)),
      wUp: keep(linearInit(d, hidden, dtype, gen)),
      gamma: keep(ones([d], { dtype, requiresGrad: true })),
      beta: keep(zeros([d], { dtype, requiresGrad: true })),
    };
  }

  /** Trainable tensors: the target prompts, W_down, W_up, γ and β (sources excluded). */
  parameters(): Tensor[] {
    const a = this.attention;
    return [...this.targets, a.wDown, a.wUp, a.gamma, a.beta];
  }

  /**
   * Instance-dependent prompts for a batch (see {@link attemptInstancePrompts}).
   *
   * @param inputsEmbeds - `[B, Lin, d]` input embeddings, pads included
   * @param targetIndex - which target prompt to mix in (default 0)
   * @returns `[B, L, d]`
   */
  instancePrompts(inputsEmbeds: Tensor, targetIndex = 0): Tensor {
    const target = this.targets[targetIndex];
    if (!target) throw new Error(`target index ${targetIndex} out of range (${this.targets.length} targets)`);
    return attemptInstancePrompts(inputsEmbeds, this.sources, target, this.attention, this.temperature, this.eps);
  }

  /** Frees every tensor this module owns. */
  dispose(): void {
    for (const t of [...this.sources, ...this.parameters()]) t.dispose();
  }
}
