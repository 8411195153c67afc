#!/usr/bin/env python3
"""Writes tests/data/bad/ and tests/data/valid/: one file per case of ../shared/reference/bad-inputs.md
(plus valid-but-unusual files that must load). The files are committed; run
this again only to change them. Needs Debian's python3-numpy and python3-pil.

Cases too large to commit (2 GiB images, 1 GB CSV) are made at test time,
sparse, by tests/cli/test_cli.py."""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = HERE


def write(rel, data):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def chunk(kind, data, length=None):
    body = kind + data
    return struct.pack(">I", len(data) if length is None else length) + body + struct.pack(">I", zlib.crc32(body))


def png(w, h, depth, ctype, raw, plte=None, idat=None):
    sig = b"\x89PNG\r\n\x1a\n"
    out = sig + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
    if plte:
        out += chunk(b"PLTE", plte)
    out += chunk(b"IDAT", zlib.compress(raw) if idat is None else idat)
    return out + chunk(b"IEND", b"")


def npy(header, payload, major=1, raw=False):
    h = header.encode("latin1")
    if not raw:
        prefix = 10 if major == 1 else 12
        h += b" " * ((64 - (prefix + len(h) + 1) % 64) % 64) + b"\n"
    length = struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([major, 0]) + length + h + payload


def scene(w=64, h=48):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 4 % 256, y * 5 % 256, (x + y) % 256], -1).astype(np.uint8)


def images():
    rgb = scene()
    good = io.BytesIO()
    Image.fromarray(rgb).save(good, "PNG")
    good = good.getvalue()
    jpg = io.BytesIO()
    Image.fromarray(rgb).save(jpg, "JPEG", quality=90)
    jpg = jpg.getvalue()

    write("bad/images/empty.png", b"")
    write("bad/images/one_byte.png", b"\x89")
    write("bad/images/signature_only.png", good[:8])
    write("bad/images/truncated.png", good[: len(good) // 2])
    write("bad/images/truncated.jpg", jpg[: len(jpg) // 2])
    header_only = lambda w, h: b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    write("bad/images/claims_100000x100000.png", header_only(100000, 100000) + chunk(b"IEND", b""))
    write("bad/images/claims_16777217x1.png", header_only(2**24 + 1, 1) + chunk(b"IEND", b""))
    write("bad/images/claims_0x5.png", header_only(0, 5) + chunk(b"IEND", b""))
    write("bad/images/over_budget_20000x20000.png", header_only(20000, 20000) + chunk(b"IEND", b""))
    write("bad/images/huge_chunk_length.png", header_only(4, 4) + chunk(b"IDAT", b"\x00" * 16, length=0x7FFFFFF0))
    raw = b"".join(b"\x00" + bytes(12) for _ in range(4))
    write("bad/images/invalid_deflate.png", png(4, 4, 8, 2, raw, idat=b"\x78\x01\x07\xff\xff\xff"))
    write("bad/images/gif_renamed.png", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
    write("bad/images/pnm_renamed.png", b"P6\n2 2\n255\n" + bytes(12))
    write("bad/images/hdr_renamed.png", b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n" + bytes(16))
    write("bad/images/tga_renamed.png", bytes([0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 24, 0]) + bytes(12))
    # 12-bit and arithmetic-coded JPEG: the frame header says so.
    sof = jpg.index(b"\xff\xc0")
    write("bad/images/jpeg_12bit.jpg", jpg[: sof + 4] + b"\x0c" + jpg[sof + 5 :])
    write("bad/images/jpeg_arithmetic.jpg", jpg[:sof] + b"\xff\xc9" + jpg[sof + 2 :])
    write("bad/images/not_an_image.png", b"This is a text file, not a picture.\n")

    # Valid but unusual: these must load.
    rows16 = b"".join(b"\x00" + b"".join(struct.pack(">HHH", x * 1000, y * 1000, 65535 - x * 1000) for x in range(32)) for y in range(32))
    write("valid/rgb16.png", png(32, 32, 16, 2, rows16))
    plte = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
    write("valid/palette.png", png(32, 32, 8, 3, b"".join(b"\x00" + bytes((x // 8) for x in range(32)) for _ in range(32)), plte))
    write("valid/grey_alpha.png", png(32, 32, 8, 4, b"".join(b"\x00" + bytes(v for x in range(32) for v in (x * 8, 255)) for _ in range(32))))
    write("valid/one_bit.png", png(32, 32, 1, 0, b"".join(b"\x00" + bytes([0xF0, 0x0F, 0xAA, 0x55]) for _ in range(32))))
    write("valid/baseline.jpg", jpg)
    prog = io.BytesIO()
    Image.fromarray(rgb).save(prog, "JPEG", quality=90, progressive=True)
    write("valid/progressive.jpg", prog.getvalue())
    bmp = io.BytesIO()
    Image.fromarray(rgb).save(bmp, "BMP")
    write("valid/scene.bmp", bmp.getvalue())


def npys():
    data = np.arange(12, dtype="<f4").tobytes()
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"
    good = npy(hdr, data)
    write("bad/npy/bad_magic.npy", b"\x93NUMPX" + good[6:])
    write("bad/npy/version_4.npy", good[:6] + b"\x04\x00" + good[8:])
    v2 = npy(hdr, data, major=2)
    write("bad/npy/v2_header_0xFFFFFFF0.npy", v2[:8] + struct.pack("<I", 0xFFFFFFF0) + v2[12:])
    write("bad/npy/header_past_end.npy", good[:8] + struct.pack("<H", 60000) + good[10:])
    write("bad/npy/header_no_newline.npy", npy(hdr, data, raw=True))
    write("bad/npy/missing_key.npy", npy("{'descr': '<f4', 'shape': (3, 4), }", data))
    write("bad/npy/extra_key.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1, }", data))
    write("bad/npy/duplicate_key.npy", npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", data))
    write("bad/npy/not_a_dict.npy", npy("('descr', '<f4')", data))
    for name, descr in [("object", "|O"), ("unicode", "<U4"), ("complex64", "<c8"), ("int32", "<i4"), ("bool", "|b1")]:
        write(f"bad/npy/dtype_{name}.npy", npy("{'descr': '%s', 'fortran_order': False, 'shape': (3, 4), }" % descr, data))
    write("bad/npy/dtype_structured.npy", npy("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (12,), }", data))
    write("bad/npy/shape_scalar.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data[:4]))
    write("bad/npy/shape_0x64.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 64), }", b""))
    write("bad/npy/shape_rank4.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 3, 4), }", data))
    write("bad/npy/shape_10L.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (10L,), }", data))
    write("bad/npy/shape_overflow.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data))
    write("bad/npy/data_truncated.npy", good[:-8])
    write("bad/npy/data_trailing.npy", good + b"\x00\x00\x00\x00")
    # Valid variants: the same 3x4 matrix every time.
    m = np.arange(12, dtype=np.float64).reshape(3, 4) / 7.0
    write("valid/c_f4.npy", npy(hdr, m.astype("<f4").tobytes()))
    write("valid/big_endian_f4.npy", npy(hdr.replace("<f4", ">f4"), m.astype(">f4").tobytes()))
    write("valid/big_endian_f8.npy", npy(hdr.replace("<f4", ">f8"), m.astype(">f8").tobytes()))
    write("valid/fortran_f4.npy", npy(hdr.replace("False", "True"), m.astype("<f4").tobytes(order="F")))
    write("valid/v3_f8.npy", npy(hdr.replace("<f4", "<f8"), m.astype("<f8").tobytes(), major=3))


def csvs():
    write("bad/csv/ragged.csv", b"1,2,3\n4,5\n")
    write("bad/csv/empty.csv", b"")
    write("bad/csv/decimal_comma.csv", b"1,5;2,25;3\n4;5;6\n")
    write("bad/csv/nan.csv", b"1,2,3\n4,nan,6\n")
    write("bad/csv/inf.csv", b"1,2,inf\n")
    write("bad/csv/overflow_1e400.csv", b"1,2,1e400\n")
    write("bad/csv/non_numeric.csv", b"1,2,3\n4,five,6\n")
    m = np.arange(12, dtype=np.float64).reshape(3, 4) / 7.0
    text = "\r\n".join(",".join(repr(float(np.float32(v))) for v in row) for row in m) + "\r\n"
    write("valid/bom_crlf_header.csv", b"\xef\xbb\xbfa,b,c,d\r\n" + text.encode())


def safetensors_file(header, data=b"", length=None):
    text = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def safetensors():
    ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    cases = {
        "shorter_than_8_bytes": b"\x01\x02\x03",
        "header_length_2e64_minus_1": safetensors_file(ok, bytes(8), length=2**64 - 1),
        "header_length_over_100MB": safetensors_file(ok, bytes(8), length=200_000_000),
        "header_past_end": safetensors_file(ok, bytes(8), length=5000),
        "header_not_utf8": safetensors_file(b"\xff\xfe{", b""),
        "header_not_json": safetensors_file("{not json", b""),
        "header_top_level_array": safetensors_file("[1, 2]", b""),
        "header_nested_100000": safetensors_file("[" * 100000 + "]" * 100000, b""),
        "duplicate_names": safetensors_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', bytes(8)),
        "tensor_called_metadata": safetensors_file('{"__metadata__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', bytes(4)),
        "metadata_not_strings": safetensors_file('{"__metadata__":{"k":1}}', b""),
        "offsets_overlap": safetensors_file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', bytes(12)),
        "offsets_gap": safetensors_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', bytes(12)),
        "offsets_backwards": safetensors_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}', bytes(8)),
        "offsets_not_from_0": safetensors_file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', bytes(8)),
        "shape_times_size_mismatch": safetensors_file('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', bytes(8)),
        "shape_product_overflow": safetensors_file('{"a":{"dtype":"F32","shape":[2,9223372036854775807],"data_offsets":[0,8]}}', bytes(8)),
        "bytes_after_last_tensor": safetensors_file(ok, bytes(12)),
        "truncated_data": safetensors_file(ok, bytes(4)),
        # (F8_E4M3, I64, BOOL and every other dtype the format defines are
        # valid: a model skips the tensors it does not use.)
        "dtype_F4_odd_bits": safetensors_file('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', bytes(2)),
        "dtype_unknown": safetensors_file('{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', bytes(1)),
    }
    for name, data in cases.items():
        write(f"bad/safetensors/{name}.safetensors", data)
    # Valid containers holding a broken ViT: a missing tensor, a mis-shaped one.
    def vit(drop=None, reshape=None):
        D, p = 8, 2
        shapes = {"cls_token": [1, 1, D], "pos_embed": [1, 5, D], "patch_embed.proj.weight": [D, 3, p, p],
                  "patch_embed.proj.bias": [D], "norm.weight": [D], "norm.bias": [D]}
        for n, s in (("norm1.weight", [D]), ("norm1.bias", [D]), ("norm2.weight", [D]), ("norm2.bias", [D]),
                     ("attn.qkv.weight", [3 * D, D]), ("attn.qkv.bias", [3 * D]), ("attn.proj.weight", [D, D]),
                     ("attn.proj.bias", [D]), ("mlp.fc1.weight", [4 * D, D]), ("mlp.fc1.bias", [4 * D]),
                     ("mlp.fc2.weight", [D, 4 * D]), ("mlp.fc2.bias", [D])):
            shapes["blocks.0." + n] = s
        if drop:
            del shapes[drop]
        if reshape:
            shapes[reshape[0]] = reshape[1]
        header, blob, off = {}, b"", 0
        for n, s in shapes.items():
            a = np.full(s, 0.01, dtype="<f4")
            header[n] = {"dtype": "F32", "shape": s, "data_offsets": [off, off + a.nbytes]}
            blob += a.tobytes()
            off += a.nbytes
        import json
        return safetensors_file(json.dumps(header), blob)
    write("bad/safetensors/vit_missing_tensor.safetensors", vit(drop="blocks.0.attn.proj.weight"))
    write("bad/safetensors/vit_wrong_shape.safetensors", vit(reshape=("blocks.0.mlp.fc2.bias", [7])))
    write("bad/safetensors/not_a_vit.safetensors", safetensors_file(ok, bytes(8)))


def configs():
    """The config files read beside a ViT's weights, and a sharded
    checkpoint's index: each bad one is its own folder (the files have their
    real names), with a tiny valid model.safetensors where one is needed."""
    cases = {
        # config.json
        "config_not_json": ("config.json", b"{not json"),
        "config_nested_bomb": ("config.json", b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}"),
        "config_heads_huge": ("config.json", b'{"num_attention_heads": 8e127}'),
        "config_heads_zero": ("config.json", b'{"num_attention_heads": 0}'),
        "config_eps_string": ("config.json", b'{"layer_norm_eps": "1e-6"}'),
        "config_eps_zero": ("config.json", b'{"layer_norm_eps": 0}'),
        "config_hidden_act_unknown": ("config.json", b'{"vision_config": {"hidden_act": "relu"}}'),
        "config_width_disagrees": ("config.json", b'{"hidden_size": 999}'),
        "config_pretrained_mean_no_std": ("config.json", b'{"pretrained_cfg": {"mean": [0.5, 0.5, 0.5]}}'),
        # open_clip_config.json
        "open_clip_quick_gelu_not_bool": ("open_clip_config.json", b'{"model_cfg": {"quick_gelu": "yes"}}'),
        "open_clip_head_width_zero": ("open_clip_config.json", b'{"model_cfg": {"vision_cfg": {"head_width": 0}}}'),
        "open_clip_std_negative": ("open_clip_config.json",
                                   b'{"preprocess_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.5, -0.5, 0.5]}}'),
        # preprocessor_config.json
        "preprocessor_mean_two_numbers": ("preprocessor_config.json", b'{"image_mean": [0.5, 0.5], "image_std": [1, 1, 1]}'),
        "preprocessor_std_zero": ("preprocessor_config.json", b'{"image_mean": [0.5, 0.5, 0.5], "image_std": [0.2, 0, 0.2]}'),
        "preprocessor_mean_nan": ("preprocessor_config.json", b'{"image_mean": [0.5, NaN, 0.5], "image_std": [1, 1, 1]}'),
        # model.safetensors.index.json
        "index_not_json": ("model.safetensors.index.json", b"[1, 2"),
        "index_no_weight_map": ("model.safetensors.index.json", b'{"metadata": {}}'),
        "index_shard_climbs": ("model.safetensors.index.json", b'{"weight_map": {"a": "../model.safetensors"}}'),
        "index_shard_missing": ("model.safetensors.index.json", b'{"weight_map": {"a": "model-00002-of-00002.safetensors"}}'),
        "index_tensor_not_in_shard": ("model.safetensors.index.json", b'{"weight_map": {"zzz": "model.safetensors"}}'),
        "index_shard_not_a_name": ("model.safetensors.index.json", b'{"weight_map": {"a": 7}}'),
    }
    # A valid Hugging Face ViT of width 8 (one block, patch 2, 2 x 2 positions)
    # beside each bad file, so the file's own fault is what stops the load.
    import json
    D, e, b = 8, "vit.embeddings.", "vit.encoder.layer.0."
    shapes = {e + "cls_token": [1, 1, D], e + "position_embeddings": [1, 5, D],
              e + "patch_embeddings.projection.weight": [D, 3, 2, 2], e + "patch_embeddings.projection.bias": [D],
              "vit.layernorm.weight": [D], "vit.layernorm.bias": [D]}
    for n in ("layernorm_before", "layernorm_after"):
        shapes[f"{b}{n}.weight"], shapes[f"{b}{n}.bias"] = [D], [D]
    for n in ("query", "key", "value"):
        shapes[f"{b}attention.attention.{n}.weight"], shapes[f"{b}attention.attention.{n}.bias"] = [D, D], [D]
    shapes[b + "attention.output.dense.weight"], shapes[b + "attention.output.dense.bias"] = [D, D], [D]
    shapes[b + "intermediate.dense.weight"], shapes[b + "intermediate.dense.bias"] = [4 * D, D], [4 * D]
    shapes[b + "output.dense.weight"], shapes[b + "output.dense.bias"] = [D, 4 * D], [D]
    header, blob, off = {}, b"", 0
    for n, shape in shapes.items():
        a = np.full(shape, 0.01, dtype="<f4")
        header[n] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + a.nbytes]}
        blob += a.tobytes()
        off += a.nbytes
    tiny = safetensors_file(json.dumps(header), blob)
    for case, (name, data) in cases.items():
        write(f"bad/configs/{case}/{name}", data)
        write(f"bad/configs/{case}/model.safetensors", tiny)


def words():
    """Imported word attention (attnscope-cli words, the app's --words): a
    good pair (3 words over a class token and 4 x 4 patches, 2 layers, 2
    heads) in valid/words/, and one bad file per case in bad/words/, each
    meant to be used with the good partner."""
    import json
    rng = np.random.default_rng(13)
    a = rng.random((2, 2, 3, 17))
    a /= a.sum(-1, keepdims=True)
    buf = io.BytesIO()
    np.save(buf, a.astype("<f4"))
    write("valid/words/attn.npy", buf.getvalue())
    write("valid/words/tokens.txt", "a\nred\ncircle\n".encode())
    write("valid/words/tokens.json", json.dumps([" a", " red", " circle"]).encode())
    signed = a - a.mean(-1, keepdims=True)
    buf = io.BytesIO()
    np.save(buf, signed.astype("<f4"))
    write("valid/words/signed.npy", buf.getvalue())

    def npy(array, dtype="<f4"):
        b = io.BytesIO()
        np.save(b, np.asarray(array).astype(dtype))
        return b.getvalue()
    nan = a.copy(); nan[1, 0, 2, 5] = np.nan
    inf = a.copy(); inf[0, 1, 0, 3] = np.inf
    good = npy(a)
    cases = {
        "attn_rank1.npy": npy(a[0, 0, 0]),
        "attn_rank5.npy": npy(a[None]),
        "attn_no_words.npy": npy(np.zeros((0, 17))),
        "attn_no_keys.npy": npy(np.zeros((3, 0))),
        "attn_int32.npy": npy(a * 100, "<i4"),
        "attn_complex.npy": npy(a, "<c8"),
        "attn_nan.npy": npy(nan),
        "attn_inf.npy": npy(inf),
        "attn_truncated.npy": good[:-10],
        "attn_not_npy.npy": b"this is not a NumPy file\n",
        "attn_two_tensors.safetensors": safetensors_file(json.dumps({
            "layer0": {"dtype": "F32", "shape": [3, 17], "data_offsets": [0, 204]},
            "layer1": {"dtype": "F32", "shape": [3, 17], "data_offsets": [204, 408]}}),
            a[0, 0].astype("<f4").tobytes() + a[0, 1].astype("<f4").tobytes()),
        "attn_int.safetensors": safetensors_file(json.dumps({
            "cross": {"dtype": "I32", "shape": [3, 17], "data_offsets": [0, 204]}}), bytes(204)),
        "attn_no_candidate.safetensors": safetensors_file(json.dumps({
            "scale": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}), bytes(4)),
        "tokens_too_few.txt": b"a\nred\n",
        "tokens_too_many.txt": b"a\nred\ncircle\n.\n",
        "tokens_empty_line.txt": b"a\n\ncircle\n",
        "tokens_invalid_utf8.txt": b"a\nr\xe9d\ncircle\n",
        "tokens_nul.txt": b"a\nr\x00d\ncircle\n",
        "tokens_empty.txt": b"",
        "tokens_ids.json": b"[64, 2266, 9950]",
        "tokens_not_strings.json": b'["a", null, "circle"]',
        "tokens_nested.json": b"[" * 100000 + b"]" * 100000,
        "tokens_not_json.json": b'["a", "red", "circle"',
    }
    for name, data in cases.items():
        write(f"bad/words/{name}", data)


def tiny_captioner_files():
    """A valid captioner, tiny (width 8, a 32 x 32 input of 2 x 2 patches, one
    layer each way), weights drawn from a fixed seed: config.json and the
    tensors of model.safetensors (name -> float32 array)."""
    import json
    cfg = {"format": "attnscope-captioner-1", "image_size": 32, "patch": 16, "width": 8, "mlp": 16,
           "encoder_layers": 1, "encoder_heads": 2, "decoder_layers": 1, "decoder_heads": [2],
           "max_tokens": 4, "layer_norm_eps": 1e-5, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
           "activation": "gelu", "vocab": ["<pad>", "<bos>", "<eos>", "a", "red", "circle"],
           "bos": 1, "eos": 2, "pad": 0,
           "checkpoints": [{"step": 0, "file": "model.safetensors"}, {"step": 10, "file": "model.safetensors"}]}
    rng = np.random.default_rng(7)
    D, M, V, T, P = 8, 16, 6, 4, 4
    shapes = {"patch_embed.weight": (D, 3, 16, 16), "patch_embed.bias": (D,), "pos_embed": (P, D),
              "encoder_norm.weight": (D,), "encoder_norm.bias": (D,), "token_embed.weight": (V, D),
              "token_pos": (T, D), "decoder_norm.weight": (D,), "decoder_norm.bias": (D,),
              "head.weight": (V, D), "head.bias": (V,)}
    for prefix, attns, norms in (("encoder.0", ["self_attn"], 2), ("decoder.0", ["self_attn", "multihead_attn"], 3)):
        for a in attns:
            shapes.update({f"{prefix}.{a}.in_proj_weight": (3 * D, D), f"{prefix}.{a}.in_proj_bias": (3 * D,),
                           f"{prefix}.{a}.out_proj.weight": (D, D), f"{prefix}.{a}.out_proj.bias": (D,)})
        for n in range(1, norms + 1):
            shapes.update({f"{prefix}.norm{n}.weight": (D,), f"{prefix}.norm{n}.bias": (D,)})
        shapes.update({f"{prefix}.linear1.weight": (M, D), f"{prefix}.linear1.bias": (M,),
                       f"{prefix}.linear2.weight": (D, M), f"{prefix}.linear2.bias": (D,)})
    tensors = {k: (rng.standard_normal(v) * 0.3).astype("<f4") for k, v in sorted(shapes.items())}
    return json.dumps(cfg, indent=1).encode(), cfg, tensors


def safetensors_of(tensors):
    import json
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    return safetensors_file(json.dumps(header), b"".join(blobs))


def captioner():
    """valid/captioner_tiny/ and one folder per bad case in bad/captioner/."""
    import json
    config, cfg, tensors = tiny_captioner_files()
    good = safetensors_of(tensors)
    write("valid/captioner_tiny/config.json", config)
    write("valid/captioner_tiny/model.safetensors", good)

    def cfg_with(**changes):
        c = dict(cfg)
        for k, v in changes.items():
            if v is None:
                c.pop(k)
            else:
                c[k] = v
        return json.dumps(c).encode()

    def weights_with(name, value):
        t = dict(tensors)
        if value is None:
            t.pop(name)
        else:
            t[name] = value
        return safetensors_of(t)

    nan = tensors["head.bias"].copy()
    nan[2] = np.nan
    cases = {  # folder: (config.json, model.safetensors); None: the file is absent
        "config_not_json": (b'{"format": "attnscope-captioner-1",', good),
        "config_nested_bomb": (b"[" * 100000 + b"]" * 100000, good),
        "config_not_object": (b"[1, 2]", good),
        "config_wrong_format": (cfg_with(format="attnscope-captioner-9"), good),
        "config_missing_width": (cfg_with(width=None), good),
        "config_width_string": (cfg_with(width="8"), good),
        "config_patch_not_dividing": (cfg_with(patch=15), good),
        "config_heads_not_dividing": (cfg_with(encoder_heads=3), good),
        "config_decoder_heads_count": (cfg_with(decoder_heads=[2, 2]), good),
        "config_decoder_heads_differ": (cfg_with(decoder_layers=2, decoder_heads=[2, 1]), good),
        "config_vocab_empty": (cfg_with(vocab=[]), good),
        "config_vocab_not_strings": (cfg_with(vocab=["<pad>", 3, "<eos>"]), good),
        "config_bos_out_of_range": (cfg_with(bos=6), good),
        "config_std_zero": (cfg_with(std=[0.5, 0, 0.5]), good),
        "config_activation_unknown": (cfg_with(activation="relu"), good),
        "config_checkpoint_escapes": (cfg_with(checkpoints=[{"step": 0, "file": "../model.safetensors"}]), good),
        "config_checkpoints_unsorted": (cfg_with(checkpoints=[{"step": 5, "file": "a"}, {"step": 2, "file": "b"}]),
                                        good),
        "config_missing": (None, good),
        "weights_missing": (config, None),
        "weights_not_safetensors": (config, b"PK\x03\x04 this is not safetensors"),
        "weights_missing_tensor": (config, weights_with("decoder.0.norm3.weight", None)),
        "weights_wrong_shape": (config, weights_with("pos_embed", np.zeros((5, 8), "<f4"))),
        "weights_nan": (config, weights_with("head.bias", nan)),
        "weights_overflow": (config, weights_with("patch_embed.weight",
                                                  np.full((8, 3, 16, 16), 3e37, "<f4"))),
    }
    for case, (c, w) in cases.items():
        if c is not None:
            write(f"bad/captioner/{case}/config.json", c)
        if w is not None:
            write(f"bad/captioner/{case}/model.safetensors", w)


if __name__ == "__main__":
    captioner()
    words()
    configs()
    safetensors()
    images()
    npys()
    csvs()
    print("wrote", sum(len(f) for d, _, f in os.walk(OUT) if "/bad" in d or "/valid" in d), "files")
