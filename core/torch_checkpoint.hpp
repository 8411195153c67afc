#pragma once
// PyTorch checkpoints (.pth, .pt, .bin) in the zip format torch.save has
// written since PyTorch 1.6: FOLDER/data.pkl, a pickle whose persistent ids
// ("storage", StorageType, key, location, numel) name the raw little-endian
// storages FOLDER/data/KEY; FOLDER/version; newer files add
// FOLDER/byteorder and FOLDER/.data/serialization_id. FOLDER is the file's
// stem in PyTorch 1.x and "archive" later.
//
// Data only: data.pkl runs on pickle.hpp's machine, which calls nothing.
// Read as data are torch._utils._rebuild_tensor_v2 and _v3 (float8 and
// uint16..64 tensors over an UntypedStorage, with a torch.<dtype> global),
// _rebuild_tensor, _rebuild_parameter(_with_state),
// torch._tensor._rebuild_from_type_v2 of a plain tensor or a Parameter,
// collections.OrderedDict, torch.Size and the storage classes
// (torch.FloatStorage ... torch.BoolStorage, torch.UntypedStorage); any
// other class or function (argparse.Namespace, an optimizer's state, numpy
// scalars, os.system) is an opaque value, skipped. Tensors are views into
// the storages (shape, element strides, offset), every element they can
// reach checked to lie inside their storage; several may share one storage.
//
// The state dict: the top-level dict when every value in it is a tensor;
// else the dict under `checkpoint_key` when one is given; else the first of
// teacher, model, state_dict, model_ema, module, net, network, params that
// holds tensors (its key is returned in metadata["checkpoint_key"]); else
// the whole top-level dict, unless two or more of its entries hold tensors
// (then the error lists them). Nested dicts of tensors are flattened with
// "."; leading "module." and "backbone." are removed from every name.
// Entries that are not tensors are skipped.
//
// Refused with a message that names the file: pre-1.6 (legacy) files and
// TorchScript archives (each with how to convert it), anything that is not
// a zip, compressed entries, a missing data.pkl or storage, big-endian
// files, tensors outside their storage, negative strides, sizes that
// overflow, unknown storage types and dtypes, pickles over the limits.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tensor_file.hpp"

namespace attn {

struct TorchCheckpointLimits {
  std::uint64_t max_file_bytes = 8ULL << 30;         // 8 GiB
  std::uint64_t max_pickle_bytes = 256ULL << 20;     // data.pkl
  std::uint32_t max_depth = 1000;                    // containers nested in data.pkl
  std::uint32_t max_entries = 100'000;               // zip entries (so storages)
  std::uint64_t max_values = 4'000'000;              // values data.pkl may build
  std::uint64_t max_tensors = 1'000'000;             // names in the state dict
  std::uint64_t max_expanded_elements = 1ULL << 28;  // a tensor with more elements than its storage (stride 0)
};

// `name` names the file in messages; tensors keep `bytes` alive.
TensorFile parse_torch_checkpoint(const std::shared_ptr<const std::vector<std::uint8_t>>& bytes,
                                  const std::string& name, const std::string& checkpoint_key = "",
                                  const TorchCheckpointLimits& limits = {});
TensorFile read_torch_checkpoint(const std::string& path, const std::string& checkpoint_key = "",
                                 const TorchCheckpointLimits& limits = {});

// Whether `bytes` start like a file of torch.save before PyTorch 1.6 (a
// pickled magic number, no zip): parse_torch_checkpoint refuses those with
// a message that says how to convert them.
bool is_legacy_torch_save(std::span<const std::uint8_t> bytes);

}  // namespace attn
