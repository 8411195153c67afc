#include "weights_file.hpp"

#include <algorithm>
#include <span>

#include "error.hpp"
#include "io.hpp"
#include "safetensors.hpp"
#include "torch_checkpoint.hpp"

namespace attn {

TensorFile read_weights(const std::string& path, const std::string& checkpoint_key) {
  const std::string index = ".index.json";
  if (path.size() > index.size() && path.compare(path.size() - index.size(), index.size(), index) == 0)
    return read_safetensors_index(path);
  std::uint8_t head[16] = {};
  {
    const ReadOnlyFile f(path, SafeTensorsLimits{}.max_file_bytes);
    f.read_at(0, std::span<std::uint8_t>(head, std::min<std::uint64_t>(f.size(), sizeof head)));
  }
  // A zip (torch.save since PyTorch 1.6), or a pickle (torch.save before
  // 1.6, which read_torch_checkpoint refuses with how to convert it).
  const bool zip = head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
  const bool pickle = head[0] == 0x80 && head[1] >= 2 && head[1] <= 5;
  if (zip || pickle) return read_torch_checkpoint(path, checkpoint_key);
  return read_safetensors(path);
}

}  // namespace attn
