#!/usr/bin/env python3
"""Writes tiny.parquet, a hand-made Parquet file for the loader tests.

No Parquet writer is available in this environment (no pyarrow/pandas; the
JS side only has hyparquet, a reader), so this script encodes the format by
hand with the standard library: Thrift compact protocol for the metadata,
PLAIN / dictionary (RLE_DICTIONARY) encodings, RLE definition levels and a
literal-only Snappy stream. It exercises what HF parquet exports contain:
a nullable dictionary-encoded UTF-8 column, an INT64 label column (read as
BigInt by hyparquet), Snappy compression, and an uncompressed INT32 column.

Run:  python3 make_tiny_parquet.py   (writes tiny.parquet next to itself)
"""
import os
import struct

ROWS = [
    ("a great movie , truly", 1, 0),
    (None, 0, 1),
    ('boring "quoted", with commas\nand a newline', 0, 2),
    ("caf\u00e9 \u2615 a great movie , truly", 1, 3),
    ("a great movie , truly", 1, 4),
]

# ---------------------------------------------------------------- thrift compact
T_TRUE, T_FALSE, T_I32, T_I64, T_BIN, T_LIST, T_STRUCT = 1, 2, 5, 6, 8, 9, 12


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


class Struct:
    """Fields: list of (id, kind, value); kind in i32,i64,bin,bool,struct,list_i32,list_bin,list_struct."""

    def __init__(self, *fields):
        self.fields = [f for f in fields if f[2] is not None]

    def encode(self):
        out = bytearray()
        last = 0
        for fid, kind, value in self.fields:
            ttype = {
                "i32": T_I32, "i64": T_I64, "bin": T_BIN, "struct": T_STRUCT,
                "list_i32": T_LIST, "list_bin": T_LIST, "list_struct": T_LIST,
                "bool": T_TRUE if value else T_FALSE,
            }[kind]
            delta = fid - last
            if 0 < delta <= 15:
                out.append((delta << 4) | ttype)
            else:
                out.append(ttype)
                out += varint(zigzag(fid))
            last = fid
            if kind in ("i32", "i64"):
                out += varint(zigzag(value))
            elif kind == "bin":
                b = value.encode() if isinstance(value, str) else value
                out += varint(len(b)) + b
            elif kind == "struct":
                out += value.encode()
            elif kind.startswith("list_"):
                et = {"list_i32": T_I32, "list_bin": T_BIN, "list_struct": T_STRUCT}[kind]
                n = len(value)
                out.append((n << 4) | et if n < 15 else 0xF0 | et)
                if n >= 15:
                    out += varint(n)
                for v in value:
                    if et == T_I32:
                        out += varint(zigzag(v))
                    elif et == T_BIN:
                        b = v.encode()
                        out += varint(len(b)) + b
                    else:
                        out += v.encode()
        out.append(0)  # stop
        return bytes(out)


# ---------------------------------------------------------------- encodings
def snappy_literal(data):
    """A valid raw Snappy stream made only of literal elements."""
    out = bytearray(varint(len(data)))
    i = 0
    while i < len(data):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += chunk
        i += len(chunk)
    return bytes(out)


def rle_runs(values, bit_width):
    """RLE/bit-packed hybrid using only RLE runs of length 1 (always valid)."""
    nbytes = (bit_width + 7) // 8
    out = bytearray()
    for v in values:
        out += varint(1 << 1) + v.to_bytes(nbytes, "little")
    return bytes(out)


def plain_byte_array(strings):
    return b"".join(struct.pack("<I", len(s.encode())) + s.encode() for s in strings)


# Parquet enums
INT32, INT64, BYTE_ARRAY = 1, 2, 6
REQUIRED, OPTIONAL = 0, 1
UTF8 = 0
PLAIN, RLE, RLE_DICTIONARY = 0, 3, 8
UNCOMPRESSED, SNAPPY = 0, 1
DATA_PAGE, DICTIONARY_PAGE = 0, 2


def page(page_type, raw, codec, num_values, encoding, dict_page=False):
    body = snappy_literal(raw) if codec == SNAPPY else raw
    if dict_page:
        sub = (7, "struct", Struct((1, "i32", num_values), (2, "i32", encoding)))
    else:
        sub = (5, "struct", Struct((1, "i32", num_values), (2, "i32", encoding), (3, "i32", RLE), (4, "i32", RLE)))
    header = Struct((1, "i32", page_type), (2, "i32", len(raw)), (3, "i32", len(body)), sub).encode()
    return header + body, len(header) + len(raw)


def main():
    out = bytearray(b"PAR1")
    chunks = []

    # Column 1: sentence, OPTIONAL UTF8, dictionary-encoded, snappy.
    sentences = [r[0] for r in ROWS]
    dictionary = []
    for s in sentences:
        if s is not None and s not in dictionary:
            dictionary.append(s)
    start = len(out)
    dict_bytes, dict_unc = page(DICTIONARY_PAGE, plain_byte_array(dictionary), SNAPPY, len(dictionary), PLAIN, dict_page=True)
    out += dict_bytes
    data_offset = len(out)
    defs = rle_runs([0 if s is None else 1 for s in sentences], 1)
    width = max(1, (len(dictionary) - 1).bit_length())
    idx = bytes([width]) + rle_runs([dictionary.index(s) for s in sentences if s is not None], width)
    raw = struct.pack("<I", len(defs)) + defs + idx
    data_bytes, data_unc = page(DATA_PAGE, raw, SNAPPY, len(ROWS), RLE_DICTIONARY)
    out += data_bytes
    chunks.append(("sentence", BYTE_ARRAY, SNAPPY, [PLAIN, RLE, RLE_DICTIONARY], start, data_offset, start,
                   len(out) - start, dict_unc + data_unc))

    # Column 2: label, REQUIRED INT64, PLAIN, snappy.
    start = len(out)
    raw = b"".join(struct.pack("<q", r[1]) for r in ROWS)
    b, unc = page(DATA_PAGE, raw, SNAPPY, len(ROWS), PLAIN)
    out += b
    chunks.append(("label", INT64, SNAPPY, [PLAIN, RLE], start, start, None, len(out) - start, unc))

    # Column 3: idx, REQUIRED INT32, PLAIN, uncompressed.
    start = len(out)
    raw = b"".join(struct.pack("<i", r[2]) for r in ROWS)
    b, unc = page(DATA_PAGE, raw, UNCOMPRESSED, len(ROWS), PLAIN)
    out += b
    chunks.append(("idx", INT32, UNCOMPRESSED, [PLAIN, RLE], start, start, None, len(out) - start, unc))

    schema = [
        Struct((4, "bin", "schema"), (5, "i32", 3)),
        Struct((1, "i32", BYTE_ARRAY), (3, "i32", OPTIONAL), (4, "bin", "sentence"), (6, "i32", UTF8)),
        Struct((1, "i32", INT64), (3, "i32", REQUIRED), (4, "bin", "label")),
        Struct((1, "i32", INT32), (3, "i32", REQUIRED), (4, "bin", "idx")),
    ]
    columns = []
    total = 0
    for name, typ, codec, encs, chunk_start, data_off, dict_off, comp, unc in chunks:
        total += unc
        meta = Struct(
            (1, "i32", typ), (2, "list_i32", encs), (3, "list_bin", [name]), (4, "i32", codec),
            (5, "i64", len(ROWS)), (6, "i64", unc), (7, "i64", comp), (9, "i64", data_off),
            (11, "i64", dict_off),
        )
        columns.append(Struct((2, "i64", chunk_start), (3, "struct", meta)))
    row_group = Struct((1, "list_struct", columns), (2, "i64", total), (3, "i64", len(ROWS)))
    file_meta = Struct(
        (1, "i32", 1), (2, "list_struct", schema), (3, "i64", len(ROWS)), (4, "list_struct", [row_group]),
        (6, "bin", "tpv make_tiny_parquet.py (hand-written encoder)"),
    ).encode()
    out += file_meta + struct.pack("<I", len(file_meta)) + b"PAR1"
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny.parquet")
    with open(path, "wb") as fh:
        fh.write(out)
    print(path, len(out), "bytes")


if __name__ == "__main__":
    main()
