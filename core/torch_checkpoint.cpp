#include "torch_checkpoint.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "error.hpp"
#include "io.hpp"
#include "pickle.hpp"
#include "zip.hpp"

namespace attn {
namespace {

using pickle::Kind;
using pickle::Ref;
using pickle::Unpickled;
using pickle::Value;

// torch.save before 1.6 starts by pickling the magic number
// 0x1950a86a20f9469cfc6c: LONG1, 10 bytes, little-endian.
constexpr std::array<std::uint8_t, 12> kLegacyMagic = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                                       0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr size_t kMaxRank = 64;
constexpr int kMaxWrapping = 8;                 // a Parameter around a tensor, a subclass around that...
constexpr std::int64_t kMaxFormatVersion = 10;  // PyTorch's kMaxSupportedFileFormatVersion
constexpr std::array<std::string_view, 8> kStateDictKeys = {"teacher", "model", "state_dict", "model_ema",
                                                            "module",  "net",   "network",    "params"};
constexpr std::array<std::string_view, 2> kStrippedPrefixes = {"module.", "backbone."};

// The storage classes torch.save names (torch/storage.py's
// _dtype_to_storage_type_map), and the torch.<dtype> globals of
// _rebuild_tensor_v3.
std::optional<DType> storage_class_dtype(std::string_view name) {
  static constexpr std::pair<std::string_view, DType> kTable[] = {
      {"DoubleStorage", DType::F64},    {"FloatStorage", DType::F32},        {"HalfStorage", DType::F16},
      {"BFloat16Storage", DType::BF16}, {"LongStorage", DType::I64},         {"IntStorage", DType::I32},
      {"ShortStorage", DType::I16},     {"CharStorage", DType::I8},          {"ByteStorage", DType::U8},
      {"BoolStorage", DType::Bool},     {"ComplexFloatStorage", DType::C64}, {"UntypedStorage", DType::U8},
  };
  for (const auto& [n, d] : kTable)
    if (n == name) return d;
  return std::nullopt;
}

std::optional<DType> torch_dtype(std::string_view name) {
  static constexpr std::pair<std::string_view, DType> kTable[] = {
      {"float64", DType::F64},
      {"double", DType::F64},
      {"float32", DType::F32},
      {"float", DType::F32},
      {"float16", DType::F16},
      {"half", DType::F16},
      {"bfloat16", DType::BF16},
      {"int64", DType::I64},
      {"long", DType::I64},
      {"int32", DType::I32},
      {"int", DType::I32},
      {"int16", DType::I16},
      {"short", DType::I16},
      {"int8", DType::I8},
      {"uint8", DType::U8},
      {"bool", DType::Bool},
      {"uint16", DType::U16},
      {"uint32", DType::U32},
      {"uint64", DType::U64},
      {"float8_e4m3fn", DType::F8_E4M3},
      {"float8_e5m2", DType::F8_E5M2},
      {"float8_e8m0fnu", DType::F8_E8M0},
      {"complex64", DType::C64},
      {"cfloat", DType::C64},
  };
  for (const auto& [n, d] : kTable)
    if (n == name) return d;
  return std::nullopt;
}

std::string shape_text(const std::vector<std::int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// A storage key names a file under data/: digits in practice; never a path.
bool plain_key(std::string_view key) {
  if (key.empty() || key.size() > 64 || key.front() == '.') return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' ||
           c == '.';
  });
}

std::string strip_prefixes(std::string name) {
  for (bool again = true; again;) {
    again = false;
    for (std::string_view p : kStrippedPrefixes) {
      if (name.size() > p.size() && name.starts_with(p)) {
        name.erase(0, p.size());
        again = true;
      }
    }
  }
  return name;
}

struct Storage {
  DType dtype;
  std::int64_t numel;
  std::span<const std::uint8_t> bytes;
};

// Reads tensors out of an unpickled data.pkl: the storages on demand from
// the archive, the state dict chosen as the header describes.
class Checkpoint {
 public:
  Checkpoint(const ZipArchive& zip, std::string folder, const Unpickled& p,
             std::shared_ptr<const std::vector<std::uint8_t>> owner, const std::string& name,
             const TorchCheckpointLimits& limits)
      : zip_(zip), folder_(std::move(folder)), p_(p), owner_(std::move(owner)), name_(name), limits_(limits) {}

  TensorFile read(const std::string& checkpoint_key);

 private:
  enum class TensorKind { No, Yes, Unsupported };

  [[noreturn]] void fail(const std::string& what) const { throw Error(name_ + ": " + what); }
  TensorKind classify(Ref r) const;
  bool holds_tensors(Ref dict) const;
  std::optional<std::string> key_text(Ref key) const;
  std::optional<Ref> lookup(Ref dict, std::string_view key) const;
  std::string keys_of(Ref dict) const;
  void flatten(Ref dict, const std::string& prefix, std::uint32_t depth, std::vector<Ref>& path);
  StoredTensor tensor(Ref r, const std::string& tensor_name);
  const Storage& storage(Ref pid, const std::string& where);
  std::int64_t integer(Ref r, const std::string& what, const std::string& where) const;
  std::vector<std::int64_t> integers(Ref r, const std::string& what, const std::string& where) const;

  const ZipArchive& zip_;
  std::string folder_;
  const Unpickled& p_;
  std::shared_ptr<const std::vector<std::uint8_t>> owner_;
  const std::string& name_;
  TorchCheckpointLimits limits_;
  std::map<std::string, Storage> storages_;
  std::vector<std::pair<std::string, Ref>> found_;  // flattened name -> tensor
  std::uint64_t visited_ = 0;
};

Checkpoint::TensorKind Checkpoint::classify(Ref r) const {
  if (p_[r].kind != Kind::Reduce) return TensorKind::No;
  const std::string f = p_.callable_name(r);
  if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor_v3" ||
      f == "torch._utils._rebuild_tensor" || f == "torch._utils._rebuild_parameter" ||
      f == "torch._utils._rebuild_parameter_with_state" || f == "torch._tensor._rebuild_from_type_v2")
    return TensorKind::Yes;
  // Quantized, sparse, nested, meta and device tensors: tensors, but not
  // the plain kind whose bytes are a storage.
  if (f.starts_with("torch._utils._rebuild_")) return TensorKind::Unsupported;
  return TensorKind::No;
}

// Whether any dict reachable from `dict` through dict values holds a tensor
// (each dict looked at once, so shared and self-containing dicts are cheap).
bool Checkpoint::holds_tensors(Ref dict) const {
  std::vector<Ref> todo = {dict};
  std::unordered_set<Ref> seen = {dict};
  while (!todo.empty()) {
    const Value& d = p_[todo.back()];
    todo.pop_back();
    for (size_t i = 1; i < d.items.size(); i += 2) {
      const Ref v = d.items[i];
      if (classify(v) != TensorKind::No) return true;
      if (p_[v].kind == Kind::Dict && seen.insert(v).second) todo.push_back(v);
    }
  }
  return false;
}

// Names as state dicts have them: strings, and the integers of an
// optimizer's state. Other keys are skipped.
std::optional<std::string> Checkpoint::key_text(Ref key) const {
  const Value& k = p_[key];
  if (k.kind == Kind::String) return k.text;
  if (k.kind == Kind::Int) return std::to_string(k.integer);
  return std::nullopt;
}

std::optional<Ref> Checkpoint::lookup(Ref dict, std::string_view key) const {
  const Value& d = p_[dict];
  for (size_t i = 0; i + 1 < d.items.size(); i += 2)
    if (p_[d.items[i]].kind == Kind::String && p_[d.items[i]].text == key) return d.items[i + 1];
  return std::nullopt;
}

std::string Checkpoint::keys_of(Ref dict) const {
  const Value& d = p_[dict];
  if (d.items.empty()) return "it is an empty dict";
  std::string s = "its keys: ";
  for (size_t i = 0; i + 1 < d.items.size(); i += 2) {
    if (i >= 24) return s + ", ...";
    const auto k = key_text(d.items[i]);
    if (i) s += ", ";
    s += k ? printable(*k, 40) : p_.describe(d.items[i]);
  }
  return s;
}

void Checkpoint::flatten(Ref dict, const std::string& prefix, std::uint32_t depth, std::vector<Ref>& path) {
  if (depth > limits_.max_depth)
    fail("dicts of tensors nested more than " + std::to_string(limits_.max_depth) + " deep");
  path.push_back(dict);
  const Value& d = p_[dict];
  for (size_t i = 0; i + 1 < d.items.size(); i += 2) {
    if (++visited_ > limits_.max_values) fail("dicts of tensors shared or nested too many times (over the limit)");
    const auto key = key_text(d.items[i]);
    if (!key) continue;
    const std::string name = prefix.empty() ? *key : prefix + "." + *key;
    const Ref v = d.items[i + 1];
    const TensorKind kind = classify(v);
    if (kind == TensorKind::Yes) {
      if (found_.size() >= limits_.max_tensors)
        fail("more than " + std::to_string(limits_.max_tensors) +
             " tensors in the state dict (over the limit; dicts shared many times?)");
      found_.emplace_back(name, v);
    } else if (kind == TensorKind::Unsupported) {
      fail("tensor \"" + printable(name) + "\" is rebuilt by " + printable(p_.callable_name(v)) +
           " (a quantized, sparse, nested or device tensor): not supported");
    } else if (p_[v].kind == Kind::Dict && std::find(path.begin(), path.end(), v) == path.end()) {
      flatten(v, name, depth + 1, path);
    }
  }
  path.pop_back();
}

std::int64_t Checkpoint::integer(Ref r, const std::string& what, const std::string& where) const {
  if (p_[r].kind != Kind::Int) fail(where + ": " + what + " is " + p_.describe(r) + ", not an integer");
  return p_[r].integer;
}

// A size or stride: a tuple, a list or a torch.Size of integers.
std::vector<std::int64_t> Checkpoint::integers(Ref r, const std::string& what, const std::string& where) const {
  if (p_.callable_name(r) == "torch.Size") {
    const Value& args = p_[p_[r].items[1]];
    if (args.items.size() != 1) fail(where + ": torch.Size with " + std::to_string(args.items.size()) + " arguments");
    r = args.items[0];
  }
  const Value& v = p_[r];
  if (v.kind != Kind::Tuple && v.kind != Kind::List)
    fail(where + ": " + what + " is " + p_.describe(r) + ", not a tuple");
  if (v.items.size() > kMaxRank) fail(where + ": more than " + std::to_string(kMaxRank) + " dimensions");
  std::vector<std::int64_t> out;
  out.reserve(v.items.size());
  for (Ref i : v.items) out.push_back(integer(i, what, where));
  return out;
}

// ("storage", StorageType, key, location, numel): the bytes of
// FOLDER/data/KEY, exactly numel elements of the type.
const Storage& Checkpoint::storage(Ref pid, const std::string& where) {
  if (p_[pid].kind != Kind::PersistentId)
    fail(where + ": its storage is " + p_.describe(pid) + ", not a persistent id");
  const Ref id = p_[pid].items[0];
  const Value& t = p_[id];
  auto text = [&](size_t i) -> const std::string* {
    const Value& s = p_[t.items[i]];
    return s.kind == Kind::String || s.kind == Kind::Bytes ? &s.text : nullptr;
  };
  if (t.kind != Kind::Tuple || t.items.size() != 5 || !text(0) || *text(0) != "storage" || !text(2))
    fail(where + ": its storage's persistent id is not (\"storage\", type, key, location, size)");
  const Value& type = p_[t.items[1]];
  if (type.kind != Kind::Global) fail(where + ": its storage type is " + p_.describe(t.items[1]) + ", not a class");
  const std::string type_name = printable(type.text + "." + type.name);
  const std::optional<DType> dtype =
      type.text == "torch" || type.text.starts_with("torch.") ? storage_class_dtype(type.name) : std::nullopt;
  if (!dtype) {
    static constexpr std::string_view kKnownUnsupported[] = {
        "ComplexDoubleStorage", "QInt8Storage", "QUInt8Storage", "QInt32Storage", "QUInt4x2Storage", "QUInt2x4Storage"};
    if (type.text == "torch" &&
        std::find(std::begin(kKnownUnsupported), std::end(kKnownUnsupported), type.name) != std::end(kKnownUnsupported))
      fail(where + ": storage type " + type_name + " (complex128 or quantized) is not supported");
    fail(where + ": unknown storage type " + type_name);
  }
  const std::string& key = *text(2);
  if (!plain_key(key)) fail(where + ": storage key \"" + printable(key) + "\" is not a plain name");
  const std::int64_t numel = integer(t.items[4], "the storage's size", where);
  if (numel < 0) fail(where + ": storage " + key + " has a negative size");

  const auto it = storages_.find(key);
  if (it != storages_.end()) {
    if (it->second.dtype != *dtype || it->second.numel != numel)
      fail(where + ": storage " + key + " is named with two different types or sizes");
    return it->second;
  }
  const std::string entry_name = folder_ + "/data/" + key;
  const ZipEntry* entry = zip_.find(entry_name);
  if (!entry)
    fail("storage " + key + " missing from the archive (no " + printable(entry_name) + ", named by " + where + ")");
  const std::span<const std::uint8_t> bytes = zip_.stored_data(*entry);
  const auto size = static_cast<std::uint64_t>(dtype_bits(*dtype) / 8);
  std::uint64_t expected = 0;
  const bool overflows = __builtin_mul_overflow(static_cast<std::uint64_t>(numel), size, &expected);
  if (overflows || bytes.size() != expected)
    fail("storage " + key + ": " + std::to_string(bytes.size()) + " bytes, " +
         (overflows ? "more than 2^64" : std::to_string(expected)) + " expected (" + std::to_string(numel) +
         " elements of " + std::to_string(size) + " bytes)");
  return storages_.emplace(key, Storage{*dtype, numel, bytes}).first->second;
}

StoredTensor Checkpoint::tensor(Ref r, const std::string& tensor_name) {
  const std::string where = "tensor \"" + printable(tensor_name) + "\"";
  Ref args = p_[r].items[1];
  std::string f = p_.callable_name(r);
  // Unwrap Parameters and tensor subclasses down to the tensor itself.
  for (int hops = 0;; ++hops) {
    if (hops == kMaxWrapping) fail(where + ": wrapped in more than " + std::to_string(kMaxWrapping) + " layers");
    const Value& a = p_[args];
    Ref callable = pickle::kNoRef;
    if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
      if (a.items.empty() || classify(a.items[0]) != TensorKind::Yes) fail(where + ": a Parameter without a tensor");
      callable = p_[a.items[0]].items[0];
      args = p_[a.items[0]].items[1];
    } else if (f == "torch._tensor._rebuild_from_type_v2") {
      if (a.items.size() != 4 || p_[a.items[0]].kind != Kind::Global || p_[a.items[2]].kind != Kind::Tuple)
        fail(where + ": _rebuild_from_type_v2 without (function, type, arguments, state)");
      callable = a.items[0];
      args = a.items[2];
    } else {
      break;
    }
    f = p_[callable].kind == Kind::Global ? p_[callable].text + "." + p_[callable].name : "";
  }
  const auto& a = p_[args].items;
  const bool v3 = f == "torch._utils._rebuild_tensor_v3", v2 = f == "torch._utils._rebuild_tensor_v2";
  const bool v1 = f == "torch._utils._rebuild_tensor";
  if (!v1 && !v2 && !v3) fail(where + ": rebuilt by " + printable(f.empty() ? "a call" : f) + ", not a tensor");
  if ((v1 && a.size() != 4) || (v2 && a.size() != 6 && a.size() != 7) || (v3 && a.size() != 7 && a.size() != 8))
    fail(where + ": " + printable(f) + " with " + std::to_string(a.size()) + " arguments");

  const Storage& s = storage(a[0], where);
  DType dtype = s.dtype;
  if (v3) {
    const Value& d = p_[a[6]];
    const std::optional<DType> t = d.kind == Kind::Global && d.text == "torch" ? torch_dtype(d.name) : std::nullopt;
    if (!t) fail(where + ": dtype " + p_.describe(a[6]) + " is not supported");
    dtype = *t;
  }
  const std::int64_t offset = integer(a[1], "the storage offset", where);
  const std::vector<std::int64_t> shape = integers(a[2], "the size", where);
  std::vector<std::int64_t> strides = integers(a[3], "the stride", where);
  if (shape.size() != strides.size())
    fail(where + ": size " + shape_text(shape) + " and stride " + shape_text(strides) + " differ in length");
  if (offset < 0) fail(where + ": negative storage offset " + std::to_string(offset));
  std::int64_t elements = 1, last = offset;
  bool overflow = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) fail(where + ": negative size " + shape_text(shape));
    if (strides[i] < 0) fail(where + ": negative stride " + shape_text(strides) + " (not supported)");
    overflow |= __builtin_mul_overflow(elements, shape[i], &elements);
  }
  if (overflow) fail(where + ": size " + shape_text(shape) + " overflows 64 bits");
  const std::int64_t capacity = static_cast<std::int64_t>(s.bytes.size()) / (dtype_bits(dtype) / 8);
  if (elements == 0 ? offset > capacity : offset >= capacity)
    fail(where + ": storage offset " + std::to_string(offset) + " past the end of its storage (" +
         std::to_string(capacity) + " elements)");
  if (elements > 0) {
    for (size_t i = 0; i < shape.size(); ++i) {
      std::int64_t reach = 0;
      overflow |=
          __builtin_mul_overflow(shape[i] - 1, strides[i], &reach) || __builtin_add_overflow(last, reach, &last);
    }
    if (overflow || last >= capacity)
      fail(where + ": size " + shape_text(shape) + " and stride " + shape_text(strides) + " from offset " +
           std::to_string(offset) + " reach past the end of its storage (" + std::to_string(capacity) + " elements)");
  }
  if (elements > capacity && static_cast<std::uint64_t>(elements) > limits_.max_expanded_elements)
    fail(where + ": " + std::to_string(elements) + " elements over a storage of " + std::to_string(capacity) +
         ": an expanded tensor over the limit of " + std::to_string(limits_.max_expanded_elements));

  // C order (ignoring dimensions of size 1) is stored as no strides.
  bool contiguous = true;
  std::int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && strides[i] != expected) contiguous = false;
    expected *= shape[i];
  }
  StoredTensor t;
  t.dtype = dtype;
  t.shape = shape;
  if (!contiguous && elements > 0) t.strides = std::move(strides);
  t.offset = offset;
  t.storage = s.bytes;
  t.owner = owner_;
  return t;
}

TensorFile Checkpoint::read(const std::string& checkpoint_key) {
  const Ref root = p_.root;
  if (p_[root].kind != Kind::Dict) {
    if (classify(root) != TensorKind::No)
      fail("holds a single tensor, not a dict of named tensors: save one, e.g. torch.save({\"weight\": t}, f)");
    const Kind k = p_[root].kind;
    fail("holds " + p_.describe(root) + ", not a dict of tensors" +
         (k == Kind::Reduce || k == Kind::Object
              ? " (a whole pickled model?): save its weights with torch.save(model.state_dict(), \"weights.pth\")"
              : ""));
  }
  TensorFile file;
  file.format = "pytorch";
  std::vector<Ref> path;
  auto take = [&](Ref dict, const std::string& key) {
    if (!key.empty()) file.metadata["checkpoint_key"] = key;
    flatten(dict, "", 0, path);
  };
  const Value& top = p_[root];
  bool all_tensors = !top.items.empty();
  for (size_t i = 1; i < top.items.size(); i += 2) all_tensors &= classify(top.items[i]) != TensorKind::No;

  if (!checkpoint_key.empty()) {
    const std::optional<Ref> v = lookup(root, checkpoint_key);
    if (!v) fail("no key \"" + printable(checkpoint_key) + "\" in the checkpoint (" + keys_of(root) + ")");
    if (p_[*v].kind != Kind::Dict || !holds_tensors(*v))
      fail("key \"" + printable(checkpoint_key) + "\" holds " + p_.describe(*v) + ", not a dict of tensors");
    take(*v, checkpoint_key);
  } else if (all_tensors) {
    take(root, "");
  } else {
    bool taken = false;
    for (std::string_view key : kStateDictKeys) {
      const std::optional<Ref> v = lookup(root, key);
      if (v && p_[*v].kind == Kind::Dict && holds_tensors(*v)) {
        take(*v, std::string(key));
        taken = true;
        break;
      }
    }
    if (!taken) {
      std::string several;
      int count = 0;
      for (size_t i = 0; i + 1 < top.items.size(); i += 2) {
        const Ref v = top.items[i + 1];
        if (p_[v].kind == Kind::Dict && holds_tensors(v)) {
          const auto k = key_text(top.items[i]);
          several += (count++ ? ", " : "") + printable(k ? *k : p_.describe(top.items[i]), 40);
        }
      }
      if (count > 1) fail("several state dicts in the checkpoint (" + several + "): choose one with --checkpoint-key");
      take(root, "");
    }
  }
  if (found_.empty()) fail("no tensors in the checkpoint (" + keys_of(root) + ")");

  std::map<std::string, std::string> original;  // stripped name -> flattened name
  for (const auto& [name, ref] : found_) {
    std::string stripped = strip_prefixes(name);
    const auto [it, inserted] = original.emplace(stripped, name);
    if (!inserted) {
      if (it->second == name) fail("two tensors are called \"" + printable(name) + "\"");
      fail("tensors \"" + printable(it->second) + "\" and \"" + printable(name) + "\" are both called \"" +
           printable(stripped) + "\" once the module. and backbone. prefixes are removed");
    }
    file.tensors.emplace(std::move(stripped), tensor(ref, name));
  }
  return file;
}

}  // namespace

bool is_legacy_torch_save(std::span<const std::uint8_t> bytes) {
  // PROTO n, maybe a FRAME, then the LONG1 magic number.
  if (bytes.size() < 2 || bytes[0] != 0x80) return false;
  const auto head = bytes.subspan(0, std::min<size_t>(bytes.size(), 16));
  return std::search(head.begin(), head.end(), kLegacyMagic.begin(), kLegacyMagic.end()) != head.end();
}

TensorFile parse_torch_checkpoint(const std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
                                  const std::string& name, const std::string& checkpoint_key,
                                  const TorchCheckpointLimits& limits) {
  const std::span<const std::uint8_t> all(*bytes);
  if (all.empty()) throw Error(name + ": empty file");
  if (is_legacy_torch_save(all))
    throw Error(name +
                ": a PyTorch checkpoint in the legacy format of torch.save before PyTorch 1.6 (a pickle, not a zip): "
                "re-save it with torch.save(torch.load(f), \"new.pth\") in PyTorch 1.6 or later, or as safetensors "
                "with safetensors.torch.save_file(torch.load(f), \"model.safetensors\")");
  if (all[0] == 0x80 && all.size() > 1 && all[1] <= 5)
    throw Error(name + ": a bare pickle, not a PyTorch zip checkpoint: re-save it with torch.save(obj, \"new.pth\")");
  const ZipArchive zip(all, name, {limits.max_entries});

  // TorchScript archives (torch.jit.save) hold code and constants beside
  // their data.pkl.
  for (const ZipEntry& e : zip.entries()) {
    const size_t slash = e.name.find('/');
    if (slash == std::string_view::npos) continue;
    const std::string_view rest = e.name.substr(slash + 1);
    if (rest == "constants.pkl" || rest.starts_with("code/"))
      throw Error(name +
                  ": a TorchScript archive (torch.jit.save), not a checkpoint of weights: re-save its weights in "
                  "Python with torch.save(torch.jit.load(f).state_dict(), \"weights.pth\")");
  }
  const ZipEntry* pkl = nullptr;
  for (const ZipEntry& e : zip.entries()) {
    const size_t slash = e.name.find('/');
    if (slash == std::string_view::npos || e.name.substr(slash + 1) != "data.pkl") continue;
    if (pkl)
      throw Error(name + ": two data.pkl in the archive (" + printable(pkl->name) + ", " + printable(e.name) + ")");
    pkl = &e;
  }
  if (!pkl) {
    std::string listing;
    for (size_t i = 0; i < zip.entries().size() && i < 8; ++i)
      listing += (i ? ", " : "") + printable(zip.entries()[i].name, 60);
    if (zip.entries().size() > 8) listing += ", ...";
    throw Error(name + ": no data.pkl: not a PyTorch checkpoint (" +
                (listing.empty() ? "the archive is empty" : "the archive holds " + listing) + ")");
  }
  const std::string folder(pkl->name.substr(0, pkl->name.find('/')));
  for (const ZipEntry& e : zip.entries())
    if (!e.name.starts_with(folder + "/"))
      throw Error(name + ": zip entry \"" + printable(e.name) + "\" lies outside the checkpoint's folder " +
                  printable(folder) + "/");

  if (const ZipEntry* e = zip.find(folder + "/byteorder")) {
    const std::span<const std::uint8_t> b = zip.stored_data(*e);
    const std::string_view order(reinterpret_cast<const char*>(b.data()), b.size());
    if (order == "big") throw Error(name + ": written on a big-endian machine (byteorder \"big\"): not supported");
    if (order != "little")
      throw Error(name + ": byteorder record \"" + printable(order) + "\" is neither little nor big");
  }
  if (const ZipEntry* e = zip.find(folder + "/version")) {
    const std::span<const std::uint8_t> b = zip.stored_data(*e);
    std::string_view v(reinterpret_cast<const char*>(b.data()), b.size());
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.remove_suffix(1);
    std::int64_t n = 0;
    const auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (err != std::errc() || end != v.data() + v.size()) n = 0;
    if (v.empty() || n < 1 || n > kMaxFormatVersion)
      throw Error(name + ": format version \"" + printable(v) + "\" is not one PyTorch 1.6 to 2.x writes (1 to " +
                  std::to_string(kMaxFormatVersion) + ")");
  }

  const std::span<const std::uint8_t> pkl_bytes = zip.stored_data(*pkl);
  if (pkl_bytes.size() > limits.max_pickle_bytes)
    throw Error(name + ": data.pkl is " + format_bytes(pkl_bytes.size()) + ", more than the limit of " +
                format_bytes(limits.max_pickle_bytes));
  const Unpickled p =
      pickle::unpickle(pkl_bytes, name + ": " + std::string(pkl->name), {limits.max_depth, limits.max_values});
  return Checkpoint(zip, folder, p, bytes, name, limits).read(checkpoint_key);
}

TensorFile read_torch_checkpoint(const std::string& path, const std::string& checkpoint_key,
                                 const TorchCheckpointLimits& limits) {
  auto bytes = std::make_shared<const std::vector<std::uint8_t>>(read_file(path, limits.max_file_bytes));
  return parse_torch_checkpoint(bytes, path, checkpoint_key, limits);
}

}  // namespace attn
