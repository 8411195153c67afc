#pragma once
// Which keys a query may attend to.
//
// A mask has a structure (none, causal, or a local window in the patch grid)
// and, on top of it, an optional set of hidden keys (painted by the user or
// loaded). Tokens are numbered row-major in the patch grid: token t sits at
// column t % grid_cols, row t / grid_cols.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "enum_names.hpp"

namespace attn {

enum class MaskStructure {
  None,    // every key visible
  Causal,  // query i sees keys j <= i (requires Nq == Nk)
  Local,   // query sees keys within Chebyshev distance `radius` in the grid
};
template <>
std::span<const EnumName<MaskStructure>> enum_names<MaskStructure>();

struct Mask {
  MaskStructure structure = MaskStructure::None;
  int radius = 1;     // Local: window radius in patches, >= 0
  int grid_cols = 0;  // Local: the patch grid's width in patches
  // Optional, size Nk when not empty: hidden_keys[j] != 0 hides key j from
  // every query.
  std::vector<std::uint8_t> hidden_keys;

  bool allows(int query, int key) const {
    if (!hidden_keys.empty() && hidden_keys[static_cast<size_t>(key)]) return false;
    switch (structure) {
      case MaskStructure::None:
        return true;
      case MaskStructure::Causal:
        return key <= query;
      case MaskStructure::Local: {
        const int dq = query % grid_cols - key % grid_cols;
        const int dr = query / grid_cols - key / grid_cols;
        return (dq < 0 ? -dq : dq) <= radius && (dr < 0 ? -dr : dr) <= radius;
      }
    }
    return true;
  }

  // Visibility of keys [k0, k1) to `query`: visible[j - k0] = allows(query, j).
  // Returns true, leaving `visible` unspecified, when every one of them is
  // visible (then callers skip the mask altogether). O(k1 - k0), no
  // per-key division: a local window is written as ranges.
  bool fill_row(int query, int k0, int k1, std::uint8_t* visible) const;

  // Throws attn::Error when this mask cannot apply to Nq queries and Nk keys
  // (causal with Nq != Nk, local without a grid that holds the tokens, a
  // hidden-key list of the wrong length, a negative radius).
  void validate(int nq, int nk) const;
};

}  // namespace attn
