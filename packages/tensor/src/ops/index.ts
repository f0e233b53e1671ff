/**
 * Every differentiable op of the engine. Each op's forward and backward live side by side in
 * its module; backward rules are written with backend primitives, so they run on every backend.
 */
export * from './creation.js';
export {
  add, sub, mul, div, pow, maximum, minimum, neg, exp, log, sqrt, rsqrt, tanh, sigmoid, relu, silu, gelu,
  abs, square, clamp, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalNot, sumToShape,
} from './elementwise.js';
export { sum, mean, max, argmax } from './reduce.js';
export { matmul } from './matmul.js';
export { reshape, unsqueeze, squeeze, permute, transpose, expand, narrow, cat, where, maskedFill } from './shape.js';
export {
  softmax, logSoftmax, crossEntropy, embedding, linear, rmsNorm, layerNorm, dropout,
  type CrossEntropyOptions, type DropoutOptions, type SoftmaxOptions,
} from './nn.js';
