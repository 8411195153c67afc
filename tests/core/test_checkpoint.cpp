// PyTorch checkpoints: every bad file of tests/data/bad/checkpoints refused
// with a message naming it and its problem, every good one of
// tests/data/valid/checkpoints read to exactly the values expected.json
// lists, and the rules of the reader (state dict choice, names, dtypes,
// views, limits) on hand-made archives.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "checkpoint_builders.hpp"
#include "core/error.hpp"
#include "core/tensor_file.hpp"
#include "core/torch_checkpoint.hpp"

namespace {

using attn::test::Bytes;
using attn::test::f32;
using attn::test::make_checkpoint;
using attn::test::Pickle;
using attn::test::tensor_of;

const std::string kData = ATTNSCOPE_SOURCE_DIR "/tests/data";

attn::TensorFile parse(const Bytes& bytes, const std::string& key = "",
                       const attn::TorchCheckpointLimits& limits = {}) {
  return attn::parse_torch_checkpoint(std::make_shared<const Bytes>(bytes), "t.pth", key, limits);
}

std::string fails(const Bytes& bytes, const std::string& key = "", const attn::TorchCheckpointLimits& limits = {}) {
  try {
    parse(bytes, key, limits);
  } catch (const attn::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("t.pth: ", 0), 0u) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

#define EXPECT_FAILS(bytes, words, ...) \
  EXPECT_NE(fails(bytes, ##__VA_ARGS__).find(words), std::string::npos) << fails(bytes, ##__VA_ARGS__)

std::vector<float> values(const attn::TensorFile& f, const std::string& name) {
  const attn::StoredTensor* t = f.find(name);
  if (!t) {
    ADD_FAILURE() << "no tensor " << name;
    return {};
  }
  return t->to_float(name);
}

const std::string kFour = f32({1, 2, 3, 4});

// BINPUT i and BINGET i.
std::string put(int i) { return std::string("q") + static_cast<char>(i); }
std::string get(int i) { return std::string("h") + static_cast<char>(i); }

// What each committed bad file must say (make_bad_checkpoints.py made them).
struct BadFile {
  const char* file;
  const char* words;
};
constexpr BadFile kBadFiles[] = {
    {"empty.pth", "empty file"},
    {"not_a_zip.pth", "not a zip archive (no end-of-central-directory record)"},
    {"no_data_pkl.pth", "no data.pkl: not a PyTorch checkpoint"},
    {"truncated.pth", "truncated zip archive"},
    {"legacy_format.pth", "legacy format of torch.save before PyTorch 1.6"},
    {"torchscript.pt", "a TorchScript archive (torch.jit.save)"},
    {"missing_storage.pth", "storage 1 missing from the archive"},
    {"storage_too_short.pth", "reach past the end of its storage (4 elements)"},
    {"storage_bytes_short.pth", "storage 0: 8 bytes, 16 expected"},
    {"offset_past_end.pth", "storage offset 10 past the end of its storage"},
    {"stride_past_end.pth", "reach past the end of its storage"},
    {"negative_stride.pth", "negative stride"},
    {"size_overflow.pth", "overflows 64 bits"},
    {"unknown_storage_type.pth", "unknown storage type torch.QuantumStorage"},
    {"nesting_bomb.pth", "nested too deeply"},
    {"mark_bomb.pth", "nested too deeply"},
    {"huge_length.pth", "string of 4294967280 bytes runs past the end"},
    {"huge_length_8.pth", "runs past the end"},
    {"memo_missing.pth", "memo entry 7 missing"},
    {"stack_underflow.pth", "stack underflow"},
    {"no_stop.pth", "ends before its STOP"},
    {"unknown_opcode.pth", "unsupported pickle opcode INST"},
    {"storage_path_climbs.pth", "storage key \"../0\" is not a plain name"},
    {"compressed_storage.pth", "is compressed (deflate)"},
    {"no_tensors.pth", "no tensors in the checkpoint (its keys: epoch, lr, note)"},
    {"several_state_dicts.pth", "several state dicts in the checkpoint (ema, swa): choose one with --checkpoint-key"},
};
// Files whose hostile parts must never run: each loads w or is refused.
constexpr const char* kHostileButLoadable[] = {"global_os_system.pth", "global_builtins_eval.pth", "self_reference.pth",
                                               "exponential_sharing.pth"};

TEST(Checkpoint, EveryBadFileIsRefusedWithItsProblem) {
  const std::string dir = kData + "/bad/checkpoints/";
  size_t seen = 0;
  for (const BadFile& bad : kBadFiles) {
    const auto start = std::chrono::steady_clock::now();
    try {
      attn::read_torch_checkpoint(dir + bad.file);
      ADD_FAILURE() << bad.file << " loaded";
    } catch (const attn::Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(dir + bad.file), std::string::npos) << m;
      EXPECT_NE(m.find(bad.words), std::string::npos) << bad.file << ": " << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << bad.file;
    ++seen;
  }
  for (const char* file : kHostileButLoadable) {
    const auto start = std::chrono::steady_clock::now();
    const attn::TensorFile f = attn::read_torch_checkpoint(dir + file);
    EXPECT_EQ(values(f, "w"), (std::vector<float>{1, 2, 3, 4})) << file;
    EXPECT_EQ(f.tensors.size(), 1u) << file;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << file;
    ++seen;
  }
  EXPECT_FALSE(std::filesystem::exists("attnscope-pickle-was-called"));
  // Every file in the folder has a row here.
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(seen, files);
}

TEST(Checkpoint, EveryValidFileReadsExactly) {
  const std::string dir = kData + "/valid/checkpoints/";
  std::ifstream in(dir + "expected.json");
  const auto expected = nlohmann::json::parse(in);
  ASSERT_GE(expected.size(), 7u);
  for (const auto& [file, tensors] : expected.items()) {
    const attn::TensorFile f = attn::read_torch_checkpoint(dir + file);
    EXPECT_EQ(f.format, "pytorch");
    EXPECT_EQ(f.tensors.size(), tensors.size()) << file;
    for (const auto& [name, want] : tensors.items()) {
      const attn::StoredTensor* t = f.find(name);
      ASSERT_NE(t, nullptr) << file << ": " << name;
      EXPECT_EQ(attn::enum_names<attn::DType>()[static_cast<size_t>(t->dtype)].label, want["dtype"].get<std::string>())
          << file << ": " << name;
      EXPECT_EQ(t->shape, want["shape"].get<std::vector<std::int64_t>>()) << file << ": " << name;
      std::vector<float> v;
      for (const auto& x : want["values"]) v.push_back(x.is_boolean() ? (x.get<bool>() ? 1.0f : 0.0f) : x.get<float>());
      EXPECT_EQ(t->to_float(name), v) << file << ": " << name;
    }
    if (tensors.contains("checkpoint_key")) continue;
  }
}

TEST(Checkpoint, ViewsShareTheFileAndItsStorages) {
  const attn::TensorFile f = attn::read_torch_checkpoint(kData + "/valid/checkpoints/shared_storage.pth");
  const auto& all = f.tensors.at("all");
  const auto& column = f.tensors.at("column");
  EXPECT_EQ(all.storage.data(), column.storage.data());  // one storage, two views
  EXPECT_EQ(column.offset, 1);
  EXPECT_EQ(column.strides, (std::vector<std::int64_t>{5}));
  EXPECT_TRUE(f.tensors.at("grid").strides.empty());  // C order: no strides kept
  EXPECT_EQ(all.owner.get(), column.owner.get());
}

TEST(Checkpoint, DtypesOfV3TensorsAndStorageClasses) {
  // uint16 and float8 e4m3 over UntypedStorage (sizes in bytes), as PyTorch
  // 2.x writes dtypes that have no storage class; an int64 LongStorage.
  std::string u16 = {'\x01', '\x00', '\xff', '\xff'}, e4m3 = {'\x38', '\x7e'};
  std::string longs(16, '\0');
  longs[0] = 7;
  longs[8] = '\xfe';
  for (int i = 9; i < 16; ++i) longs[static_cast<size_t>(i)] = '\xff';
  const std::string pkl =
      Pickle()
          .dict({{"u", [](Pickle& p) { p.tensor("0", 4, 0, {2}, {1}, "UntypedStorage", "uint16"); }},
                 {"e", [](Pickle& p) { p.tensor("1", 2, 0, {2}, {1}, "UntypedStorage", "float8_e4m3fn"); }},
                 {"l", [](Pickle& p) { p.tensor("2", 2, 0, {2}, {1}, "LongStorage"); }}})
          .done();
  const attn::TensorFile f = parse(make_checkpoint(pkl, {{"0", u16}, {"1", e4m3}, {"2", longs}}));
  EXPECT_EQ(f.tensors.at("u").dtype, attn::DType::U16);
  EXPECT_EQ(values(f, "u"), (std::vector<float>{1, 65535}));
  EXPECT_EQ(f.tensors.at("e").dtype, attn::DType::F8_E4M3);
  EXPECT_EQ(values(f, "e"), (std::vector<float>{1, 448}));
  EXPECT_EQ(values(f, "l"), (std::vector<float>{7, -2}));
  // Quantized storages and unknown dtypes are named.
  EXPECT_FAILS(
      make_checkpoint(Pickle()
                          .dict({{"q", tensor_of("0", 4, {4}, {1})}})
                          .done()
                          .replace(Pickle().dict({{"q", tensor_of("0", 4, {4}, {1})}}).done().find("FloatStorage"), 12,
                                   "QInt8Storage"),
                      {{"0", "abcd"}}),
      "torch.QInt8Storage (complex128 or quantized) is not supported");
  const std::string bad_dtype =
      Pickle()
          .dict({{"x", [](Pickle& p) { p.tensor("0", 4, 0, {4}, {1}, "UntypedStorage", "float8_e4m3fnuz"); }}})
          .done();
  EXPECT_FAILS(make_checkpoint(bad_dtype, {{"0", "abcd"}}), "dtype the global torch.float8_e4m3fnuz is not supported");
}

TEST(Checkpoint, ParametersSubclassesAndTorchSize) {
  // Parameter(tensor), _rebuild_from_type_v2(_rebuild_tensor_v2, Parameter,
  // args, state), and a size given as torch.Size([2, 2]).
  const std::string pkl =
      Pickle()
          .dict({{"p",
                  [](Pickle& p) {
                    p.global("torch._utils", "_rebuild_parameter").raw("(");
                    p.tensor("0", 4, 0, {2, 2}, {2, 1});
                    p.raw("\x88").global("collections", "OrderedDict").raw(")RtR");
                  }},
                 {"s",
                  [](Pickle& p) {
                    p.global("torch._tensor", "_rebuild_from_type_v2").raw("(");
                    p.global("torch._utils", "_rebuild_tensor_v2").global("torch.nn.parameter", "Parameter").raw("(");
                    p.raw("(").str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).raw("tQ");
                    p.integer(2).global("torch", "Size").raw("]").integer(2).raw("a\x85R").ints({1});
                    p.raw("\x89").global("collections", "OrderedDict").raw(")Rt}tR");
                  }}})
          .done();
  const attn::TensorFile f = parse(make_checkpoint(pkl, {{"0", kFour}}));
  EXPECT_EQ(values(f, "p"), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(values(f, "s"), (std::vector<float>{3, 4}));
  // Quantized or sparse tensors in the state dict are named, not skipped.
  const std::string q =
      Pickle()
          .dict({{"q", [](Pickle& p) { p.global("torch._utils", "_rebuild_qtensor").integer(1).raw("\x85R"); }}})
          .done();
  EXPECT_FAILS(make_checkpoint(q, {}), "tensor \"q\" is rebuilt by torch._utils._rebuild_qtensor");
}

// {"teacher": {...}, "student": {...}, "args": argparse.Namespace, "epoch": 3}
std::string dino_checkpoint() {
  auto state_dict = [](const std::string& prefix, const std::string& key) {
    return [=](Pickle& p) {
      p.dict(
          {{prefix + "blocks.0.w", tensor_of(key, 4, {4}, {1})}, {prefix + "head.w", tensor_of(key, 4, {2}, {1}, 2)}});
    };
  };
  return Pickle()
      .dict(
          {{"student", state_dict("module.backbone.", "0")},
           {"teacher", state_dict("backbone.", "1")},
           {"args", [](Pickle& p) { p.global("argparse", "Namespace").raw(")\x81}").str("lr").integer(1).raw("sb"); }},
           {"epoch", [](Pickle& p) { p.integer(3); }}})
      .done();
}

TEST(Checkpoint, ChoosesTheStateDict) {
  const Bytes dino = make_checkpoint(dino_checkpoint(), {{"0", kFour}, {"1", f32({5, 6, 7, 8})}});
  const attn::TensorFile teacher = parse(dino);
  EXPECT_EQ(teacher.metadata.at("checkpoint_key"), "teacher");
  EXPECT_EQ(values(teacher, "blocks.0.w"), (std::vector<float>{5, 6, 7, 8}));  // backbone. stripped
  EXPECT_EQ(values(teacher, "head.w"), (std::vector<float>{7, 8}));
  const attn::TensorFile student = parse(dino, "student");
  EXPECT_EQ(student.metadata.at("checkpoint_key"), "student");
  EXPECT_EQ(values(student, "blocks.0.w"), (std::vector<float>{1, 2, 3, 4}));  // module.backbone. stripped
  EXPECT_FAILS(dino, "no key \"ema\" in the checkpoint (its keys: student, teacher, args, epoch)", "ema");
  EXPECT_FAILS(dino, "key \"args\" holds a argparse.Namespace object, not a dict of tensors", "args");
  EXPECT_FAILS(dino, "key \"epoch\" holds an integer", "epoch");

  // The preferred keys in order; a plain dict of tensors is taken as it is.
  const std::string both = Pickle()
                               .dict({{"model",
                                       [](Pickle& p) {
                                         p.dict({{"w", tensor_of("0", 4, {4}, {1})}});
                                       }},
                                      {"state_dict",
                                       [](Pickle& p) {
                                         p.dict({{"w", tensor_of("1", 4, {4}, {1})}});
                                       }}})
                               .done();
  EXPECT_EQ(parse(make_checkpoint(both, {{"0", kFour}, {"1", kFour}})).metadata.at("checkpoint_key"), "model");
  const attn::TensorFile flat =
      parse(make_checkpoint(Pickle().dict({{"w", tensor_of("0", 4, {4}, {1})}}).done(), {{"0", kFour}}));
  EXPECT_TRUE(flat.metadata.empty());
  // A model key holding no tensors is passed over.
  const std::string empty_model = Pickle()
                                      .dict({{"model", [](Pickle& p) { p.raw("}"); }},
                                             {"weights",
                                              [](Pickle& p) {
                                                p.dict({{"w", tensor_of("0", 4, {4}, {1})}});
                                              }}})
                                      .done();
  const attn::TensorFile nested = parse(make_checkpoint(empty_model, {{"0", kFour}}));
  EXPECT_EQ(values(nested, "weights.w"), (std::vector<float>{1, 2, 3, 4}));
  // Two candidates and no preferred key: the user chooses.
  const std::string two = Pickle()
                              .dict({{"ema",
                                      [](Pickle& p) {
                                        p.dict({{"w", tensor_of("0", 4, {4}, {1})}});
                                      }},
                                     {"swa",
                                      [](Pickle& p) {
                                        p.dict({{"w", tensor_of("0", 4, {4}, {1})}});
                                      }}})
                              .done();
  EXPECT_FAILS(make_checkpoint(two, {{"0", kFour}}), "several state dicts in the checkpoint (ema, swa)");
  EXPECT_EQ(values(parse(make_checkpoint(two, {{"0", kFour}}), "swa"), "w"), (std::vector<float>{1, 2, 3, 4}));
}

TEST(Checkpoint, NamesAfterStripping) {
  const std::string pkl = Pickle()
                              .dict({{"module.backbone.module.a", tensor_of("0", 4, {4}, {1})},
                                     {"backbone.b", tensor_of("0", 4, {4}, {1})},
                                     {"module.", tensor_of("0", 4, {4}, {1})}})
                              .done();
  const attn::TensorFile f = parse(make_checkpoint(pkl, {{"0", kFour}}));
  EXPECT_TRUE(f.has("a") && f.has("b") && f.has("module."));
  const std::string clash =
      Pickle().dict({{"module.a", tensor_of("0", 4, {4}, {1})}, {"a", tensor_of("0", 4, {4}, {1})}}).done();
  EXPECT_FAILS(
      make_checkpoint(clash, {{"0", kFour}}),
      "tensors \"module.a\" and \"a\" are both called \"a\" once the module. and backbone. prefixes are removed");
  const std::string twice = Pickle()
                                .dict({{"a.b", tensor_of("0", 4, {4}, {1})},
                                       {"a",
                                        [](Pickle& p) {
                                          p.dict({{"b", tensor_of("0", 4, {4}, {1})}});
                                        }}})
                                .done();
  EXPECT_FAILS(make_checkpoint(twice, {{"0", kFour}}), "two tensors are called \"a.b\"");
}

TEST(Checkpoint, WhatIsNotAStateDict) {
  EXPECT_FAILS(make_checkpoint(Pickle().tensor("0", 4, 0, {4}, {1}).done(), {{"0", kFour}}),
               "holds a single tensor, not a dict of named tensors");
  const std::string model =
      Pickle().global("timm.models", "VisionTransformer").raw(")\x81}").str("_parameters").raw("}sb").done();
  EXPECT_FAILS(make_checkpoint(model, {}),
               "holds a timm.models.VisionTransformer object, not a dict of tensors (a whole pickled model?)");
  EXPECT_FAILS(make_checkpoint(Pickle().raw("]").done(), {}), "holds a list, not a dict of tensors");
  EXPECT_FAILS(make_checkpoint(Pickle().raw("}").done(), {}), "no tensors in the checkpoint (it is an empty dict)");
  // Tensors only inside lists or opaque objects are not found.
  const std::string in_list =
      Pickle().dict({{"l", [](Pickle& p) { p.raw("]").tensor("0", 4, 0, {4}, {1}).raw("a"); }}}).done();
  EXPECT_FAILS(make_checkpoint(in_list, {{"0", kFour}}), "no tensors in the checkpoint (its keys: l)");
}

TEST(Checkpoint, ArchiveLayout) {
  const std::string pkl = Pickle().dict({{"w", tensor_of("0", 4, {4}, {1})}}).done();
  // PyTorch 1.x names the folder after the file; Python's zip layout works too.
  EXPECT_EQ(values(parse(make_checkpoint(pkl, {{"0", kFour}}, "my_model", {})), "w"), (std::vector<float>{1, 2, 3, 4}));
  auto with = [&](std::vector<std::pair<std::string, std::string>> extra) {
    std::vector<std::pair<std::string, std::string>> entries = {{"archive/data.pkl", pkl}, {"archive/data/0", kFour}};
    entries.insert(entries.end(), extra.begin(), extra.end());
    return attn::test::make_zip(entries).bytes;
  };
  EXPECT_NO_THROW(parse(with({{"archive/.data/serialization_id", "1234"}, {"archive/.format_version", "1"}})));
  EXPECT_FAILS(with({{"archive/byteorder", "big"}}), "big-endian");
  EXPECT_FAILS(with({{"archive/byteorder", "middle"}}), "neither little nor big");
  EXPECT_FAILS(with({{"archive/version", "11\n"}}), "format version \"11\"");
  EXPECT_FAILS(with({{"archive/version", "three"}}), "format version \"three\"");
  EXPECT_FAILS(with({{"other/x", ""}}), "\"other/x\" lies outside the checkpoint's folder archive/");
  EXPECT_FAILS(with({{"other/data.pkl", pkl}}), "two data.pkl");
  EXPECT_FAILS(with({{"archive/constants.pkl", ""}}), "TorchScript");
  EXPECT_FAILS(with({{"archive/code/__torch__/m.py", ""}}), "TorchScript");
  EXPECT_FAILS(attn::test::make_zip({}).bytes, "no data.pkl: not a PyTorch checkpoint (the archive is empty)");
  EXPECT_FAILS((Bytes{0x80, 0x02, 'N', '.'}), "a bare pickle");
}

TEST(Checkpoint, StoragesAndViews) {
  auto one = [](std::string_view storage, std::int64_t numel, std::int64_t offset,
                const std::vector<std::int64_t>& size, const std::vector<std::int64_t>& stride) {
    return Pickle().dict({{"w", [=](Pickle& p) { p.tensor("0", numel, offset, size, stride, storage); }}}).done();
  };
  const std::string eight = f32({0, 1, 2, 3, 4, 5, 6, 7});
  // A transposed 2x2 block at offset 1 of a 2x4: storage[1 + i + 4j].
  const attn::TensorFile f = parse(make_checkpoint(one("FloatStorage", 8, 1, {2, 2}, {1, 4}), {{"0", eight}}));
  EXPECT_EQ(values(f, "w"), (std::vector<float>{1, 5, 2, 6}));
  // Stride 0 (expand): every element is storage[2].
  EXPECT_EQ(values(parse(make_checkpoint(one("FloatStorage", 8, 2, {3, 2}, {0, 0}), {{"0", eight}})), "w"),
            (std::vector<float>(6, 2.0f)));
  attn::TorchCheckpointLimits small;
  small.max_expanded_elements = 100;
  EXPECT_FAILS(make_checkpoint(one("FloatStorage", 8, 0, {1000, 1000}, {0, 0}), {{"0", eight}}), "expanded tensor", "",
               small);
  // Empty tensors may sit at the storage's end, not past it.
  EXPECT_EQ(
      parse(make_checkpoint(one("FloatStorage", 8, 8, {0, 3}, {3, 1}), {{"0", eight}})).tensors.at("w").elements(), 0);
  EXPECT_FAILS(make_checkpoint(one("FloatStorage", 8, 9, {0}, {1}), {{"0", eight}}), "past the end of its storage");
  EXPECT_FAILS(make_checkpoint(one("FloatStorage", 8, 0, {2, 2}, {1}), {{"0", eight}}), "differ in length");
  EXPECT_FAILS(make_checkpoint(one("FloatStorage", 8, 0, {-1}, {1}), {{"0", eight}}), "negative size");
  EXPECT_FAILS(make_checkpoint(one("FloatStorage", 8, -1, {1}, {1}), {{"0", eight}}), "negative storage offset");
  EXPECT_FAILS(make_checkpoint(one("FloatStorage", 8, 1, {2, 2}, {INT64_MAX / 2, 1}), {{"0", eight}}),
               "reach past the end");
  EXPECT_FAILS(
      make_checkpoint(one("FloatStorage", 8, 0, std::vector<std::int64_t>(65, 1), std::vector<std::int64_t>(65, 1)),
                      {{"0", eight}}),
      "more than 64 dimensions");
  EXPECT_FAILS(make_checkpoint(one("FloatStorage", 8, 0, {8}, {1}), {{"0", eight + "xx"}}),
               "storage 0: 34 bytes, 32 expected");
  EXPECT_FAILS(make_checkpoint(one("FloatStorage", INT64_MAX, 0, {8}, {1}), {{"0", eight}}), "more than 2^64 expected");
  EXPECT_FAILS(make_checkpoint(one("FloatStorage", 8, 0, {8}, {1}), {}), "storage 0 missing from the archive");
  // One storage named as two types.
  const std::string two_types = Pickle()
                                    .dict({{"a", [](Pickle& p) { p.tensor("0", 8, 0, {8}, {1}); }},
                                           {"b", [](Pickle& p) { p.tensor("0", 32, 0, {8}, {1}, "ByteStorage"); }}})
                                    .done();
  EXPECT_FAILS(make_checkpoint(two_types, {{"0", eight}}), "storage 0 is named with two different types or sizes");
}

TEST(Checkpoint, Limits) {
  const std::string pkl = Pickle().dict({{"w", tensor_of("0", 4, {4}, {1})}}).done();
  const Bytes b = make_checkpoint(pkl, {{"0", kFour}});
  attn::TorchCheckpointLimits limits;
  limits.max_pickle_bytes = 16;
  EXPECT_FAILS(b, "data.pkl is ", "", limits);
  limits = {};
  limits.max_entries = 3;
  EXPECT_FAILS(b, "more than the limit of 3", "", limits);
  limits = {};
  limits.max_values = 10;
  EXPECT_FAILS(b, "more than 10 values", "", limits);
  limits = {};
  limits.max_depth = 2;
  const std::string deep =
      Pickle()
          .dict({{"a",
                  [](Pickle& p) {
                    p.dict({{"b", [](Pickle& q) { q.dict({{"c", tensor_of("0", 4, {4}, {1})}}); }}});
                  }}})
          .done();
  EXPECT_FAILS(make_checkpoint(deep, {{"0", kFour}}), "nested", "", limits);
  EXPECT_EQ(values(parse(make_checkpoint(deep, {{"0", kFour}})), "a.b.c"), (std::vector<float>{1, 2, 3, 4}));
  // A dict that contains itself beside a tensor: the tensor loads.
  const std::string self = Pickle().raw("}q\x01(").str("w").tensor("0", 4, 0, {4}, {1}).str("me").raw("h\x01u").done();
  EXPECT_EQ(values(parse(make_checkpoint(self, {{"0", kFour}})), "w"), (std::vector<float>{1, 2, 3, 4}));
  // Dicts shared 2^40 ways under "model": refused at once, not walked.
  Pickle dag;
  dag.raw("}").raw(put(0)).raw("(").str("w").tensor("0", 4, 0, {4}, {1}).raw("u");
  for (int i = 1; i <= 40; ++i) {
    const std::string previous = get(i - 1);
    dag.raw("}").raw(put(i)).raw("(").str("a").raw(previous).str("b").raw(previous).raw("u");
  }
  dag.raw("}(").str("model").raw(get(40)).raw("u");
  const auto start = std::chrono::steady_clock::now();
  limits = {};
  limits.max_tensors = 1000;
  EXPECT_FAILS(make_checkpoint(dag.done(), {{"0", kFour}}), "more than 1000 tensors", "", limits);
  limits = {};
  limits.max_values = 5000;
  EXPECT_FAILS(make_checkpoint(dag.done(), {{"0", kFour}}), "too many times", "", limits);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
