/**
 * SentencePiece's unigram segmentation (`unigram_model.cc`, `Model::EncodeOptimized`),
 * ported so that the chosen segmentation — including every tie-break and the
 * float32 rounding of path scores — is the one libsentencepiece picks.
 *
 * @module
 */

import { TokenizerError } from './errors.js';
import { oneCharLen } from './charsmap.js';
import { PieceType, type ModelPiece } from './protobuf.js';

/** Penalty subtracted from the lowest piece score to score an unknown character (`kUnkPenalty`). */
export const UNK_PENALTY = 10;

/** One segment of an encoded text. */
export interface EncodedPiece {
  /** Vocabulary id. */
  readonly id: number;
  /** Normalized UTF-8 bytes this piece covers (for `<unk>`: the unknown characters). */
  readonly surface: Uint8Array;
}

/** Options of a {@link UnigramModel}. */
export interface UnigramModelOptions {
  /** Id of the `<unk>` piece. */
  readonly unkId: number;
  /** Encode unknown characters as `<0xXX>` byte pieces instead of `<unk>`. */
  readonly byteFallback?: boolean | undefined;
  /** File name for error messages. */
  readonly source?: string | undefined;
}

/**
 * A byte trie over the vocabulary. One flat `Map` keyed by `node * 256 + byte` is
 * compact (one entry per trie edge) and quick enough: encoding walks at most
 * `max piece length` edges per character.
 */
class PieceTrie {
  private readonly edges = new Map<number, number>();
  private values: Int32Array = new Int32Array(1024).fill(-1);
  private nodeCount = 1;

  insert(bytes: Uint8Array, id: number): void {
    let node = 0;
    for (const b of bytes) {
      const key = node * 256 + b;
      let next = this.edges.get(key);
      if (next === undefined) {
        next = this.nodeCount++;
        if (next >= this.values.length) {
          const grown = new Int32Array(this.values.length * 2).fill(-1);
          grown.set(this.values);
          this.values = grown;
        }
        this.edges.set(key, next);
      }
      node = next;
    }
    this.values[node] = id;
  }

  /** The child of `node` by `byte`, or -1. */
  child(node: number, byte: number): number {
    return this.edges.get(node * 256 + byte) ?? -1;
  }

  /** The piece id stored at `node`, or -1. */
  value(node: number): number {
    return this.values[node]!;
  }
}

/**
 * The unigram language model segmenter.
 *
 * It finds the segmentation of a normalized string maximizing the sum of piece
 * scores (log-probabilities) with a left-to-right Viterbi pass.
 */
export class UnigramModel {
  /** Vocabulary in id order. */
  readonly pieces: readonly ModelPiece[];
  /** Id of `<unk>`. */
  readonly unkId: number;
  /** Whether unknown characters become byte pieces. */
  readonly byteFallback: boolean;
  /** Lowest score of a NORMAL piece (float32), as in sentencepiece's `min_score_`. */
  readonly minScore: number;
  /** Highest score of a NORMAL piece (float32), as in sentencepiece's `max_score_`. */
  readonly maxScore: number;

  private readonly trie = new PieceTrie();
  /** Scores rounded to float32 once, since the C++ model stores them as `float`. */
  private readonly scores: Float64Array;
  private readonly types: Uint8Array;
  /** Ids of the `<0xXX>` pieces by byte value (byte fallback), -1 when absent. */
  private readonly byteIds = new Int32Array(256).fill(-1);

  /**
   * @param pieces - the vocabulary, in id order.
   * @param options - unk id, byte fallback.
   * @throws {@link TokenizerError} `INVALID_MODEL` when the unk id is not an UNKNOWN piece
   *   or a segmentable piece is duplicated (sentencepiece refuses such models too).
   */
  constructor(pieces: readonly ModelPiece[], options: UnigramModelOptions) {
    const source = options.source ?? '<model>';
    this.pieces = pieces;
    this.unkId = options.unkId;
    this.byteFallback = options.byteFallback ?? false;
    if (pieces[this.unkId]?.type !== PieceType.UNKNOWN) {
      throw new TokenizerError('INVALID_MODEL', `${source}: unk id ${this.unkId} is not an <unk> (UNKNOWN) piece`, {
        file: source,
      });
    }
    this.scores = new Float64Array(pieces.length);
    this.types = new Uint8Array(pieces.length);
    // sentencepiece starts from FLT_MAX / FLT_MIN (the smallest *positive* float).
    let minScore = 3.4028234663852886e38;
    let maxScore = 1.1754943508222875e-38;
    const enc = new TextEncoder();
    const seen = new Set<string>();
    for (let id = 0; id < pieces.length; id++) {
      const p = pieces[id]!;
      const score = Math.fround(p.score);
      this.scores[id] = score;
      this.types[id] = p.type;
      if (p.type === PieceType.NORMAL) {
        minScore = Math.min(minScore, score);
        maxScore = Math.max(maxScore, score);
      }
      if (p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED) {
        if (seen.has(p.piece)) {
          throw new TokenizerError('INVALID_MODEL', `${source}: piece ${JSON.stringify(p.piece)} is defined twice`, {
            file: source,
          });
        }
        seen.add(p.piece);
        if (p.piece.length > 0) this.trie.insert(enc.encode(p.piece), id);
      } else if (p.type === PieceType.BYTE) {
        const m = /^<0x([0-9A-F]{2})>$/.exec(p.piece);
        if (m) this.byteIds[parseInt(m[1]!, 16)] = id;
      }
    }
    this.minScore = minScore;
    this.maxScore = maxScore;
  }

  /**
   * Segments normalized UTF-8 bytes.
   *
   * Mirrors `Model::EncodeOptimized`: for every character boundary (left to right) it
   * extends the best path ending there with every vocabulary piece starting there,
   * keeping, per end position, the first candidate unless a later one scores strictly
   * higher. Candidates for an end position arrive in order of increasing start, so ties
   * go to the longest last piece — the libsentencepiece tie-break. Scores are summed in
   * double and stored in float32, as in C++ where the candidate is a `double`
   * (the ternary mixes `float` with `length * max_score_ - 0.1`) and `best_path_score`
   * a `float`. A character no piece of exactly one character covers gets an `<unk>`
   * candidate scored `minScore - 10` (computed in float32).
   *
   * Afterwards consecutive `<unk>` pieces are merged into one (as
   * `PopulateSentencePieceText` does), or, with byte fallback, split into byte pieces.
   */
  encode(normalized: Uint8Array): EncodedPiece[] {
    const size = normalized.length;
    if (size === 0) return [];
    const unkScore = Math.fround(this.minScore - UNK_PENALTY);
    const bestScore = new Float64Array(size + 1);
    const startsAt = new Int32Array(size + 1).fill(-1);
    const bestId = new Int32Array(size + 1).fill(-1);
    const trie = this.trie;

    let start = 0;
    while (start < size) {
      const tillHere = bestScore[start]!;
      const mblen = Math.min(oneCharLen(normalized[start]!), size - start);
      let hasSingleNode = false;
      let node = 0;
      for (let keyPos = start; keyPos < size; ) {
        node = trie.child(node, normalized[keyPos]!);
        keyPos++;
        if (node < 0) break;
        const id = trie.value(node);
        if (id < 0) continue;
        const type = this.types[id]!;
        if (type === PieceType.UNUSED) continue;
        const length = keyPos - start;
        // User-defined symbols get a bonus so they always win (they are matched whole).
        const score = type === PieceType.USER_DEFINED ? Math.fround(length * this.maxScore) - 0.1 : this.scores[id]!;
        const candidate = score + tillHere;
        if (startsAt[keyPos] === -1 || candidate > bestScore[keyPos]!) {
          bestScore[keyPos] = Math.fround(candidate);
          startsAt[keyPos] = start;
          bestId[keyPos] = id;
        }
        if (length === mblen) hasSingleNode = true;
      }
      if (!hasSingleNode) {
        const target = start + mblen;
        const candidate = Math.fround(unkScore + tillHere);
        if (startsAt[target] === -1 || candidate > bestScore[target]!) {
          bestScore[target] = candidate;
          startsAt[target] = start;
          bestId[target] = this.unkId;
        }
      }
      start += mblen;
    }

    // Backtrack from the end.
    const reversed: EncodedPiece[] = [];
    for (let endsAt = size; endsAt > 0; ) {
      const s = startsAt[endsAt]!;
      reversed.push({ id: bestId[endsAt]!, surface: normalized.subarray(s, endsAt) });
      endsAt = s;
    }
    reversed.reverse();
    return this.postprocess(reversed);
  }

  /** Merges runs of `<unk>` (or expands them to byte pieces with byte fallback). */
  private postprocess(pieces: EncodedPiece[]): EncodedPiece[] {
    const out: EncodedPiece[] = [];
    let prevUnk = false;
    for (const p of pieces) {
      const isUnk = p.id === this.unkId;
      if (isUnk && this.byteFallback) {
        for (let i = 0; i < p.surface.length; i++) {
          const byteId = this.byteIds[p.surface[i]!]!;
          out.push({ id: byteId >= 0 ? byteId : this.unkId, surface: p.surface.subarray(i, i + 1) });
        }
      } else if (isUnk && prevUnk) {
        // Adjacent unknowns become one <unk> covering all their characters.
        const last = out[out.length - 1]!;
        const merged = new Uint8Array(last.surface.length + p.surface.length);
        merged.set(last.surface);
        merged.set(p.surface, last.surface.length);
        out[out.length - 1] = { id: this.unkId, surface: merged };
      } else {
        out.push(p);
      }
      prevUnk = isUnk;
    }
    return out;
  }
}
