// libFuzzer target: PyTorch checkpoints (zip reader, pickle machine, tensor
// rebuilding), with every tensor that loads checked against its storage.
//
// An input that starts like a zip ("PK") is the whole file. Anything else
// is taken as data.pkl: it is unpickled once to see which storages its
// persistent ids name, and wrapped in an archive holding storages of
// exactly those sizes, so mutations of the pickle reach the tensor code
// instead of stopping at the zip's structure.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "../core/checkpoint_builders.hpp"
#include "core/error.hpp"
#include "core/pickle.hpp"
#include "core/tensor_file.hpp"
#include "core/torch_checkpoint.hpp"

namespace {

using attn::pickle::Kind;

// Bytes per element of the storage classes (1 for anything unknown: the
// reader refuses those).
std::uint64_t element_bytes(const std::string& type) {
  if (type == "DoubleStorage" || type == "LongStorage" || type == "ComplexFloatStorage") return 8;
  if (type == "FloatStorage" || type == "IntStorage") return 4;
  if (type == "HalfStorage" || type == "BFloat16Storage" || type == "ShortStorage") return 2;
  return 1;
}

std::vector<std::pair<std::string, std::string>> storages_named_by(const std::uint8_t* data, size_t size) {
  std::vector<std::pair<std::string, std::string>> out;
  try {
    const attn::pickle::Unpickled p = attn::pickle::unpickle({data, size}, "fuzz", {100, 100'000});
    for (const auto& v : p.values) {
      if (v.kind != Kind::PersistentId || p[v.items[0]].kind != Kind::Tuple) continue;
      const auto& t = p[v.items[0]].items;
      if (t.size() != 5 || p[t[1]].kind != Kind::Global || p[t[2]].kind != Kind::String || p[t[4]].kind != Kind::Int)
        continue;
      const std::int64_t numel = p[t[4]].integer;
      const std::uint64_t bytes = element_bytes(p[t[1]].name) * static_cast<std::uint64_t>(numel);
      if (numel < 0 || numel > (1 << 16) || out.size() > 64) continue;
      if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.first == p[t[2]].text; })) continue;
      std::string s(bytes, '\0');
      for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 37 + 11);
      out.emplace_back(p[t[2]].text, std::move(s));
    }
  } catch (const attn::Error&) {
  }
  return out;
}

// Every element a tensor can reach lies inside its storage, which lies
// inside the file; checked here independently of the reader.
void check(const attn::StoredTensor& t, const std::vector<std::uint8_t>& file) {
  if (t.owner.get() != &file) __builtin_trap();
  if (t.storage.data() < file.data() || t.storage.data() + t.storage.size() > file.data() + file.size())
    __builtin_trap();
  const auto size = static_cast<unsigned __int128>(attn::dtype_bits(t.dtype) / 8);
  if (t.elements() == 0) return;
  unsigned __int128 last = static_cast<unsigned __int128>(t.offset);
  if (t.strides.empty()) {
    last += static_cast<unsigned __int128>(t.elements() - 1);
  } else {
    if (t.strides.size() != t.shape.size()) __builtin_trap();
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (t.strides[d] < 0 || t.shape[d] < 1) __builtin_trap();
      last += static_cast<unsigned __int128>(t.shape[d] - 1) * static_cast<unsigned __int128>(t.strides[d]);
    }
  }
  if ((last + 1) * size > t.storage.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  std::shared_ptr<const std::vector<std::uint8_t>> file;
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    file = std::make_shared<const std::vector<std::uint8_t>>(data, data + size);
  } else {
    const std::string pkl(reinterpret_cast<const char*>(data), size);
    file = std::make_shared<const std::vector<std::uint8_t>>(
        attn::test::make_checkpoint(pkl, storages_named_by(data, size)));
  }
  attn::TorchCheckpointLimits limits;
  limits.max_expanded_elements = 1 << 16;
  limits.max_values = 200'000;
  limits.max_tensors = 10'000;
  try {
    const attn::TensorFile f = attn::parse_torch_checkpoint(file, "fuzz", "", limits);
    if (f.tensors.empty() || f.format != "pytorch") __builtin_trap();
    for (const auto& [name, t] : f.tensors) {
      check(t, *file);
      if (attn::converts_to_float(t.dtype)) {
        const std::vector<float> v = t.to_float(name);
        if (static_cast<std::int64_t>(v.size()) != t.elements()) __builtin_trap();
      }
    }
  } catch (const attn::Error&) {
  }
  return 0;
}
