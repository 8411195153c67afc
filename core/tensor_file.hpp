#pragma once
// Weights as files hold them: named tensors of any dtype, views into the
// file's bytes (read once into one buffer), converted to float32 only when
// a model asks for a tensor. Tensors a model does not use (a text tower,
// int64 position ids, a classifier, a 0-d logit scale) are never converted,
// so an odd dtype there costs nothing and refuses nothing.
//
// Readers: safetensors.hpp (one file, or shards through their index),
// torch_checkpoint.hpp (PyTorch's zip format: .pth, .pt, .bin), and
// weights_file.hpp, which picks the reader from the file's first bytes.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "enum_names.hpp"
#include "io.hpp"

namespace attn {

// Every dtype safetensors defines; PyTorch's storages map onto these too.
enum class DType {
  Bool,
  U8,
  I8,
  I16,
  U16,
  I32,
  U32,
  I64,
  U64,
  F16,
  BF16,
  F32,
  F64,
  F8_E4M3,
  F8_E5M2,
  F8_E8M0,
  C64,
  F4,
  F6_E2M3,
  F6_E3M2,
};
// Names as safetensors writes them ("F32", "BF16", "F8_E4M3", ...).
template <>
std::span<const EnumName<DType>> enum_names<DType>();

// Bits per element (4 for F4, 6 for the F6 kinds).
int dtype_bits(DType d);
// Whether to_float() converts it: the real float and integer kinds (not
// complex, not the 8-, 6- and 4-bit float kinds).
bool converts_to_float(DType d);

struct StoredTensor {
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  // Element strides, one per dimension; empty means C order (contiguous).
  std::vector<std::int64_t> strides;
  std::int64_t offset = 0;  // elements from the start of `storage`
  // The bytes the elements live in (a safetensors tensor's range, or a
  // PyTorch storage), inside a buffer that `owner` keeps alive; or, when
  // `file` is set, `file_bytes` bytes at `file_offset` in that file, read
  // when the tensor is converted (straight into the destination for F32).
  std::span<const std::uint8_t> storage;
  std::shared_ptr<const std::vector<std::uint8_t>> owner;
  std::shared_ptr<const ReadOnlyFile> file;
  std::uint64_t file_offset = 0, file_bytes = 0;

  std::int64_t elements() const;  // the product of shape (1 for a 0-d tensor)
  // The elements as float32 in C order into `out` (size elements()).
  // Throws attn::Error naming `name` when the dtype does not convert.
  // Readers have checked that every element lies inside `storage`.
  void to_float(std::span<float> out, const std::string& name) const;
  std::vector<float> to_float(const std::string& name) const;
};

struct TensorFile {
  std::map<std::string, StoredTensor> tensors;
  std::map<std::string, std::string> metadata;  // safetensors' __metadata__
  std::string format;                           // "safetensors", "pytorch" (shown in messages)

  bool has(const std::string& name) const { return tensors.contains(name); }
  const StoredTensor* find(const std::string& name) const {
    const auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
};

// float32 <-> half and bfloat16 (round to nearest even), as PyTorch does.
float half_to_float(std::uint16_t h);
float bfloat16_to_float(std::uint16_t b);
std::uint16_t float_to_half(float f);
std::uint16_t float_to_bfloat16(float f);

}  // namespace attn
