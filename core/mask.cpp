#include "mask.hpp"

#include <string>

#include "error.hpp"

namespace attn {

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
