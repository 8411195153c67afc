#pragma once
// safetensors files: an 8-byte little-endian header length N, N bytes of
// UTF-8 JSON {name: {"dtype", "shape", "data_offsets": [begin, end]},
// "__metadata__": {str: str}}, then the tensors' bytes (offsets relative to
// the end of the header).
//
// Every rule of the format is checked: header length within the file and at
// most 100 MB; JSON well-formed, an object, nested at most 4 deep, no
// duplicate names, no tensor called __metadata__, metadata values strings
// only; every dtype the format defines (an unknown one is named and
// refused); shapes of non-negative integers whose product does not
// overflow; offsets [begin, end] with end - begin = elements × dtype size
// (whole bytes for the 4- and 6-bit kinds), covering the data contiguously
// from 0 with no gap, overlap or trailing byte. Anything else throws
// attn::Error naming the file and the tensor. Tensors are converted to
// float32 only when used (tensor_file.hpp).
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "tensor_file.hpp"

namespace attn {

struct SafeTensorsLimits {
  std::uint64_t max_file_bytes = 8ULL << 30;     // 8 GiB
  std::uint64_t max_header_bytes = 100'000'000;  // the format's own limit
  int max_shards = 1000;
};

// A file already in memory (copied into a buffer the tensors share).
TensorFile parse_safetensors(std::span<const std::uint8_t> bytes, const std::string& name,
                             const SafeTensorsLimits& limits = {});
// A file on disk: the header is read and checked now, each tensor's bytes
// when it is converted (F32 straight into its destination).
TensorFile read_safetensors(const std::string& path, const SafeTensorsLimits& limits = {});
// A sharded checkpoint's index, read: shard file -> the tensors it holds.
// Shards must be plain file names (beside the index). Throws attn::Error
// naming `path`.
std::map<std::string, std::vector<std::string>> parse_safetensors_index(const std::string& text,
                                                                        const std::string& path,
                                                                        const SafeTensorsLimits& limits = {});
// A sharded checkpoint: model.safetensors.index.json ({"weight_map":
// {tensor: shard file}}) and the shards beside it, as one TensorFile.
// Every tensor the map names must be in its shard, and no tensor twice.
TensorFile read_safetensors_index(const std::string& path, const SafeTensorsLimits& limits = {});

// Writes float32 tensors (used by tests and benchmarks to make files).
struct NamedTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // C order
  std::string dtype = "F32";
};
std::vector<std::uint8_t> encode_safetensors(const std::map<std::string, NamedTensor>& tensors);

}  // namespace attn
