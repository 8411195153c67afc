#pragma once
// Row normalisers: turn one row of scores into attention weights.
//
// Each takes the scores z of one query row (length Nk), a temperature T > 0,
// and a visibility flag per key; it writes the weights w (length Nk). Hidden
// keys get exactly 0. A row with no visible key is all zeros (never NaN).
// All sums are accumulated in double.
//
// Where each runs: these are the definitions, and the code that runs for
// sparsemax, no normalisation and T below kArgmaxTemperature. Softmax rows
// at ordinary temperatures run in attention_fast.cpp (normalise_one(), and
// the online softmax of the output-only path) on the vectorised kernels of
// simd/kernels.hpp (row_max, exp_row, scale_row; one source,
// simd/kernels_impl.hpp, built per instruction set). tests/core/test_fast.cpp
// checks those against a double-precision reference of these.
#include <cstdint>
#include <span>

#include "enum_names.hpp"

namespace attn {

// Below this temperature every normaliser returns the explicit limit: a
// one-hot on the arg-max (ties share the weight equally). Dividing by a
// smaller T would overflow float for ordinary score gaps.
inline constexpr double kArgmaxTemperature = 1e-6;

enum class Norm { Softmax, Sparsemax, None };
template <>
std::span<const EnumName<Norm>> enum_names<Norm>();

// w_j = exp((z_j - max z) / T) / sum_k exp((z_k - max z) / T) over visible keys.
void softmax_row(std::span<const float> z, double temperature, std::span<const std::uint8_t> visible,
                 std::span<float> w);

// Sparsemax (Martins & Astudillo 2016): the Euclidean projection of z / T
// onto the probability simplex, w_j = max(z_j / T - tau, 0), with tau chosen
// so the row sums to 1. Often exactly zero on most keys.
void sparsemax_row(std::span<const float> z, double temperature, std::span<const std::uint8_t> visible,
                   std::span<float> w);

// No normalisation: w_j = z_j / T on visible keys. Throws attn::Error if that
// overflows float (a temperature far too small for unnormalised weights).
void identity_row(std::span<const float> z, double temperature, std::span<const std::uint8_t> visible,
                  std::span<float> w);

void normalise_row(Norm norm, std::span<const float> z, double temperature, std::span<const std::uint8_t> visible,
                   std::span<float> w);

// Throws attn::Error unless T is finite and > 0. `what` names the argument.
void check_temperature(double temperature, const char* what = "temperature");

}  // namespace attn
