#include "softmax.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "error.hpp"

namespace attn {

template <>
std::span<const EnumName<Norm>> enum_names<Norm>() {
  static constexpr std::array<EnumName<Norm>, 3> kNames = {{
      {Norm::Softmax, "softmax", "softmax", "exp(s/T) normalised to sum 1: every visible key gets some weight."},
      {Norm::Sparsemax, "sparsemax", "sparsemax",
       "The projection onto the simplex (Martins & Astudillo 2016): weights sum to 1, many exactly 0."},
      {Norm::None, "none", "none", "The scores divided by T, as they are: no normalisation."},
  }};
  return kNames;
}
namespace {

// Returns the largest visible score, or -inf when no key is visible.
float visible_max(std::span<const float> z, std::span<const std::uint8_t> visible) {
  float m = -std::numeric_limits<float>::infinity();
  for (size_t j = 0; j < z.size(); ++j)
    if (visible[j] && z[j] > m) m = z[j];
  return m;
}

// The T -> 0 limit of softmax and sparsemax: equal shares among the maxima.
void argmax_row(std::span<const float> z, float m, std::span<const std::uint8_t> visible, std::span<float> w) {
  int ties = 0;
  for (size_t j = 0; j < z.size(); ++j) ties += (visible[j] && z[j] == m);
  const float share = 1.0f / static_cast<float>(ties);
  for (size_t j = 0; j < z.size(); ++j) w[j] = (visible[j] && z[j] == m) ? share : 0.0f;
}

}  // namespace

void check_temperature(double temperature, const char* what) {
  if (!std::isfinite(temperature) || temperature <= 0.0)
    throw Error(std::string(what) + " must be a finite number > 0 (got " + std::to_string(temperature) + ")");
}

void softmax_row(std::span<const float> z, double temperature, std::span<const std::uint8_t> visible,
                 std::span<float> w) {
  assert(z.size() == w.size() && z.size() == visible.size());
  const float m = visible_max(z, visible);
  if (m == -std::numeric_limits<float>::infinity()) {  // fully masked row
    std::fill(w.begin(), w.end(), 0.0f);
    return;
  }
  if (temperature < kArgmaxTemperature) return argmax_row(z, m, visible, w);
  const double inv_t = 1.0 / temperature;
  double sum = 0.0;
  for (size_t j = 0; j < z.size(); ++j) {
    const double e = visible[j] ? std::exp((static_cast<double>(z[j]) - m) * inv_t) : 0.0;
    w[j] = static_cast<float>(e);
    sum += e;
  }
  // sum >= 1: the maximum contributes exp(0), so the division is safe.
  const double inv_sum = 1.0 / sum;
  for (size_t j = 0; j < z.size(); ++j) w[j] = static_cast<float>(w[j] * inv_sum);
}

void sparsemax_row(std::span<const float> z, double temperature, std::span<const std::uint8_t> visible,
                   std::span<float> w) {
  assert(z.size() == w.size() && z.size() == visible.size());
  const float m = visible_max(z, visible);
  if (m == -std::numeric_limits<float>::infinity()) {
    std::fill(w.begin(), w.end(), 0.0f);
    return;
  }
  if (temperature < kArgmaxTemperature) return argmax_row(z, m, visible, w);
  const double inv_t = 1.0 / temperature;
  // Scores relative to the max (shift-invariant, and keeps z/T finite).
  std::vector<double> s;
  s.reserve(z.size());
  for (size_t j = 0; j < z.size(); ++j)
    if (visible[j]) s.push_back((static_cast<double>(z[j]) - m) * inv_t);
  std::sort(s.begin(), s.end(), std::greater<>());
  // k(z) = max{k : 1 + k s_(k) > sum_{j<=k} s_(j)}; tau = (sum_{j<=k} s_(j) - 1) / k.
  double cumulative = 0.0, tau = 0.0;
  for (size_t k = 1; k <= s.size(); ++k) {
    cumulative += s[k - 1];
    if (1.0 + static_cast<double>(k) * s[k - 1] > cumulative)
      tau = (cumulative - 1.0) / static_cast<double>(k);
    else
      break;
  }
  for (size_t j = 0; j < z.size(); ++j) {
    const double v = visible[j] ? (static_cast<double>(z[j]) - m) * inv_t - tau : 0.0;
    w[j] = v > 0.0 ? static_cast<float>(v) : 0.0f;
  }
}

void identity_row(std::span<const float> z, double temperature, std::span<const std::uint8_t> visible,
                  std::span<float> w) {
  assert(z.size() == w.size() && z.size() == visible.size());
  const double inv_t = 1.0 / temperature;
  for (size_t j = 0; j < z.size(); ++j) {
    const double v = visible[j] ? static_cast<double>(z[j]) * inv_t : 0.0;
    if (std::abs(v) > std::numeric_limits<float>::max())
      throw Error("temperature " + std::to_string(temperature) +
                  " is too small for unnormalised weights: score / T overflows float");
    w[j] = static_cast<float>(v);
  }
}

void normalise_row(Norm norm, std::span<const float> z, double temperature, std::span<const std::uint8_t> visible,
                   std::span<float> w) {
  switch (norm) {
    case Norm::Softmax:
      return softmax_row(z, temperature, visible, w);
    case Norm::Sparsemax:
      return sparsemax_row(z, temperature, visible, w);
    case Norm::None:
      return identity_row(z, temperature, visible, w);
  }
}

}  // namespace attn
