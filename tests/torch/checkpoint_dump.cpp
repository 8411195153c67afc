// checkpoint_dump FILE [CHECKPOINT_KEY]: what read_torch_checkpoint makes
// of FILE, as JSON for checkpoint_roundtrip.py: per tensor its dtype, shape,
// its elements' bytes in C order (hex) and, for dtypes that convert, the
// float32 values to_float gives (hex). Exit 3 with the message on stderr
// when the file is refused.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/torch_checkpoint.hpp"

namespace {

std::string hex(const std::uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

// The elements' bytes in C order, walking shape and strides independently
// of StoredTensor::to_float.
std::string element_bytes(const attn::StoredTensor& t) {
  const size_t size = static_cast<size_t>(attn::dtype_bits(t.dtype) / 8);
  const size_t rank = t.shape.size();
  std::vector<std::int64_t> strides = t.strides;
  if (strides.empty()) {
    strides.assign(rank, 1);
    for (size_t d = rank; d-- > 1;) strides[d - 1] = strides[d] * t.shape[d];
  }
  std::string out;
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t i = 0; i < t.elements(); ++i) {
    std::int64_t at = t.offset;
    for (size_t d = 0; d < rank; ++d) at += index[d] * strides[d];
    out += hex(t.storage.data() + static_cast<size_t>(at) * size, size);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: checkpoint_dump FILE [CHECKPOINT_KEY]\n");
    return 2;
  }
  try {
    const attn::TensorFile f = attn::read_torch_checkpoint(argv[1], argc == 3 ? argv[2] : "");
    nlohmann::json out = {{"format", f.format}, {"metadata", f.metadata}, {"tensors", nlohmann::json::object()}};
    for (const auto& [name, t] : f.tensors) {
      nlohmann::json j = {{"dtype", attn::name_of(t.dtype)}, {"shape", t.shape}, {"bytes", element_bytes(t)}};
      if (attn::converts_to_float(t.dtype)) {
        const std::vector<float> v = t.to_float(name);
        j["float"] = hex(reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(float));
      }
      out["tensors"][name] = j;
    }
    std::cout << out.dump() << "\n";
  } catch (const attn::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 3;
  } catch (const std::exception& e) {  // out of memory, or a bug in this tool
    std::fprintf(stderr, "checkpoint_dump: %s\n", e.what());
    return 1;
  }
  return 0;
}
