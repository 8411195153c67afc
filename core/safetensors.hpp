#pragma once
// safetensors files: an 8-byte little-endian header length N, N bytes of
// UTF-8 JSON {name: {"dtype", "shape", "data_offsets": [begin, end]},
// "__metadata__": {str: str}}, then the tensors' bytes (offsets relative to
// the end of the header).
//
// Every rule of the format is checked, and the whole file is copied into
// owned buffers: header length within the file and at most 100 MB; JSON
// well-formed, an object, nested at most 4 deep, no duplicate names, no
// tensor called __metadata__, metadata values strings only; dtypes F32, F16,
// BF16 or F64 (anything else is named and refused); shapes of non-negative
// integers whose product does not overflow; offsets [begin, end] with
// end - begin = elements × dtype size, covering the data contiguously from 0
// with no gap, overlap or trailing byte. Anything else throws attn::Error
// naming the file and the tensor.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace attn {

struct NamedTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // converted to float32, C order
  std::string dtype;        // as stored: F32, F16, BF16 or F64
  std::int64_t elements() const { return static_cast<std::int64_t>(data.size()); }
};

struct SafeTensors {
  std::map<std::string, NamedTensor> tensors;
  std::map<std::string, std::string> metadata;
  bool has(const std::string& name) const { return tensors.contains(name); }
};

struct SafeTensorsLimits {
  std::uint64_t max_file_bytes = 8ULL << 30;     // 8 GiB
  std::uint64_t max_header_bytes = 100'000'000;  // the format's own limit
};

SafeTensors parse_safetensors(std::span<const std::uint8_t> bytes, const std::string& name,
                              const SafeTensorsLimits& limits = {});
SafeTensors read_safetensors(const std::string& path, const SafeTensorsLimits& limits = {});

// Writes float32 tensors (used by tests and benchmarks to make files).
std::vector<std::uint8_t> encode_safetensors(const std::map<std::string, NamedTensor>& tensors);

}  // namespace attn
