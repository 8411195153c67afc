#include "tensors.hpp"

#include "core/attention.hpp"

#include <cstring>

#include "core/csv.hpp"
#include "core/error.hpp"
#include "core/io.hpp"

namespace app {

attn::Array load_tensor(const std::string& path) {
  const bool csv = path.size() >= 4 &&
                   (path.compare(path.size() - 4, 4, ".csv") == 0 || path.compare(path.size() - 4, 4, ".CSV") == 0);
  attn::Array a;
  if (csv) {
    const attn::Matrix m = attn::read_csv(path);
    a.shape = {m.rows(), m.cols()};
    a.data.assign(m.data(), m.data() + m.size());
  } else {
    a = attn::read_npy(path);
  }
  if (a.rank() < 2)
    throw attn::Error(path + ": expected a 2-D [N, d] or 3-D [H, N, d] array, got rank " + std::to_string(a.rank()));
  return a;
}

attn::Heads to_heads(const attn::Array& a, int heads, const std::string& what) {
  attn::Heads out;
  if (a.rank() == 3) {
    if (a.dim(0) != heads)
      throw attn::Error(what + " has " + std::to_string(a.dim(0)) + " heads but " + std::to_string(heads) +
                        " are expected");
    const auto n = a.dim(1), d = a.dim(2);
    for (int h = 0; h < heads; ++h) out.push_back(Eigen::Map<const attn::Matrix>(a.data.data() + h * n * d, n, d));
    return out;
  }
  return attn::split_heads(to_matrix(a, what), heads, what.c_str());
}

attn::Matrix to_matrix(const attn::Array& a, const std::string& what) {
  if (a.rank() != 2) throw attn::Error(what + " must be 2-D, got rank " + std::to_string(a.rank()));
  return Eigen::Map<const attn::Matrix>(a.data.data(), a.dim(0), a.dim(1));
}

}  // namespace app
