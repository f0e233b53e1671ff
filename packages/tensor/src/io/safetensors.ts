/**
 * Safetensors reading and writing on plain typed arrays, independent of the tensor class so that the
 * T5 loader and PEFT adapter IO can share it. This module is the public face; the implementation is
 * split by concern into sibling modules.
 */
export type { SafetensorsDtype, RawTensorData, RawTensor } from './dtype.js';
export { SAFETENSORS_DTYPES, isSafetensorsDtype, dtypeItemSize } from './dtype.js';
export type { TensorEntry, SafetensorsHeader, ParseHeaderOptions } from './header.js';
export { parseSafetensorsHeader, DEFAULT_MAX_HEADER_BYTES } from './header.js';
export type { DecodedTensor, SafetensorsReadOptions } from './reader.js';
export { SafetensorsFile } from './reader.js';
export type { TensorInput, TensorInputData } from './writer.js';
export { encodeSafetensors, writeSafetensors } from './writer.js';
export {
  float16BitsToNumber,
  bfloat16BitsToNumber,
  numberToFloat16Bits,
  numberToBfloat16Bits,
  decodeFloat16Array,
  decodeBfloat16Array,
  encodeFloat16Array,
  encodeBfloat16Array,
} from './half.js';
export { SafetensorsError } from './safetensors-error.js';
export type { SafetensorsErrorCode, SafetensorsErrorContext } from './safetensors-error.js';
