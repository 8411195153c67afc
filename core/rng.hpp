#pragma once
// Seeded random numbers that are the same on every machine.
//
// The generator is xoshiro256** (Blackman & Vigna 2018), its state filled by
// SplitMix64 from the seed and a stream number, so that Q, K, V and each
// projection matrix draw independent streams from one user-visible seed.
// std::normal_distribution and friends are not used: their algorithms differ
// between standard libraries. Here:
//  - uniform(): the top 24 bits of a draw, times 2^-24: exact floats in [0, 1);
//  - gaussian(): Box-Muller in double precision on two 53-bit uniforms, rounded
//    to float. Both outputs of each pair are used, cosine first.
#include <cstdint>

#include "types.hpp"

namespace attn {

class Rng {
 public:
  Rng(std::uint64_t seed, std::uint64_t stream = 0);

  std::uint64_t next();
  float uniform();                    // [0, 1)
  float uniform(float lo, float hi);  // [lo, hi)
  float gaussian();                   // N(0, 1)

 private:
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

enum class Distribution { Gaussian, Uniform };

// A [rows, cols] matrix of independent draws: N(0, scale^2) for Gaussian,
// U[-scale, scale) for Uniform. Filled row by row from Rng(seed, stream).
Matrix random_matrix(int rows, int cols, Distribution dist, std::uint64_t seed, std::uint64_t stream,
                     float scale = 1.0f);

}  // namespace attn
