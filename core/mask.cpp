#include "mask.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "error.hpp"

namespace attn {

template <>
std::span<const EnumName<MaskStructure>> enum_names<MaskStructure>() {
  static constexpr std::array<EnumName<MaskStructure>, 3> kNames = {{
      {MaskStructure::None, "none", "none", "Every query sees every key."},
      {MaskStructure::Causal, "causal", "causal",
       "A query sees only the keys up to itself in reading order, as a text decoder does."},
      {MaskStructure::Local, "local", "local window", "A query sees only the keys within a window around it."},
  }};
  return kNames;
}

bool Mask::fill_row(int query, int k0, int k1, std::uint8_t* visible) const {
  const int n = k1 - k0;
  if (n <= 0) return true;
  switch (structure) {
    case MaskStructure::None:
      if (hidden_keys.empty()) return true;
      std::memset(visible, 1, static_cast<size_t>(n));
      break;
    case MaskStructure::Causal: {
      if (hidden_keys.empty() && query >= k1 - 1) return true;
      const int last = std::clamp(query + 1, k0, k1);  // keys [k0, last) are visible
      std::memset(visible, 1, static_cast<size_t>(last - k0));
      std::memset(visible + (last - k0), 0, static_cast<size_t>(k1 - last));
      break;
    }
    case MaskStructure::Local: {
      std::memset(visible, 0, static_cast<size_t>(n));
      const int qc = query % grid_cols, qr = query / grid_cols;
      const int c0 = std::max(0, qc - radius), c1 = std::min(grid_cols - 1, qc + radius);
      for (int r = std::max(0, qr - radius); r <= qr + radius; ++r) {
        const long first = static_cast<long>(r) * grid_cols + c0, last = static_cast<long>(r) * grid_cols + c1 + 1;
        const long a = std::max<long>(first, k0), b = std::min<long>(last, k1);
        if (a < b) std::memset(visible + (a - k0), 1, static_cast<size_t>(b - a));
      }
      break;
    }
  }
  if (!hidden_keys.empty())
    for (int j = 0; j < n; ++j)
      visible[j] &= static_cast<std::uint8_t>(!hidden_keys[static_cast<size_t>(k0) + static_cast<size_t>(j)]);
  return false;
}

void Mask::validate(int nq, int nk) const {
  if (!hidden_keys.empty() && static_cast<int>(hidden_keys.size()) != nk)
    throw Error("key mask has " + std::to_string(hidden_keys.size()) + " entries but there are " + std::to_string(nk) +
                " keys");
  switch (structure) {
    case MaskStructure::None:
      break;
    case MaskStructure::Causal:
      if (nq != nk)
        throw Error("causal mask needs as many queries as keys (got " + std::to_string(nq) + " queries, " +
                    std::to_string(nk) + " keys)");
      break;
    case MaskStructure::Local:
      if (radius < 0) throw Error("local mask radius must be >= 0 (got " + std::to_string(radius) + ")");
      if (grid_cols <= 0) throw Error("local mask needs a patch grid");
      if (nq != nk) throw Error("local mask needs as many queries as keys (one per patch)");
      break;
  }
}

}  // namespace attn
