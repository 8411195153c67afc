#pragma once
// Vectorised kernels, chosen at run time for the CPU in hand.
//
// Three builds of the same source (kernels_impl.hpp): AVX-512 (F, DQ, BW, VL,
// with FMA), AVX2 with FMA, and a portable SSE2 one (every x86-64 has SSE2;
// other CPUs get plain C++ with the same structure). Only the files in this
// folder are compiled with -mavx2 / -mavx512f; everything else is built for
// baseline x86-64, so the binary runs on any x86-64 and uses the widest
// kernels the CPU supports.
//
// All pointers are raw float arrays; strides are in elements. Nothing here
// allocates, throws or takes a lock.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attn::simd {

enum class Isa { Generic, Avx2, Avx512 };

struct Kernels {
  Isa isa;
  const char* name;
  // Register tile of the matrix-multiply micro-kernel: MR rows x NR columns.
  int mr, nr;

  // C[mr x nr] = alpha * (A B) (+ C when accumulate), where A is packed as
  // kc groups of mr floats (one column of the row panel each) and B as kc
  // groups of nr floats. C is row-major with row stride ldc.
  void (*gemm_tile)(int kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc, float alpha, bool accumulate);
  // The same with A unpacked: A[i, p] = a[i * lda + p].
  void (*gemm_tile_rows)(int kc, const float* a, std::ptrdiff_t lda, const float* b, float* c, std::ptrdiff_t ldc,
                         float alpha, bool accumulate);

  // The largest z[j] over keys with visible[j] != 0 (visible == nullptr: all
  // keys), -inf when none is visible; NaN when any z[j] (visible or not) is
  // NaN or infinite, so overflowed scores are caught in the same pass.
  float (*row_max)(const float* z, const std::uint8_t* visible, int n);

  // w[j] = exp((z[j] - shift) * scale) on visible keys, 0 on hidden ones;
  // returns the sum of the w[j] (accumulated in blocks, then in double).
  // Arguments whose exponent is below -87.3 (the float range) give exactly 0.
  double (*exp_row)(const float* z, const std::uint8_t* visible, int n, float shift, float scale, float* w);

  // x[j] *= s.
  void (*scale_row)(float* x, int n, float s);

  // y[j] = alpha * dot(K row j, q) for j in [0, n): K is [n, d] row-major
  // with row stride ldk; q has d floats.
  void (*dot_rows)(const float* k, std::ptrdiff_t ldk, int n, int d, const float* q, float alpha, float* y);

  // out[t] += sum_j w[j] * V[j, t] for t in [0, d), over j in [0, n) with
  // w[j] != 0. V is [n, d] with row stride ldv.
  void (*weighted_rows)(const float* v, std::ptrdiff_t ldv, int n, int d, const float* w, float* out);

  // x[j] = GELU(x[j]) = x Φ(x) (the exact, erf form), absolute error < 1e-6.
  void (*gelu_row)(float* x, int n);

  // IEEE half precision, rounded to nearest even (F16C on x86): the
  // compact store of large attention maps.
  void (*to_half)(const float* x, std::uint16_t* h, std::size_t n);
  void (*from_half)(const std::uint16_t* h, float* x, std::size_t n);
};

// The best kernels this CPU runs (ATTNSCOPE_ISA=generic|avx2|avx512 in the
// environment picks a narrower one, for tests and comparisons).
const Kernels& kernels();

// The kernels for one ISA, or nullptr when this CPU lacks it.
const Kernels* kernels_for(Isa isa);

// Every ISA this CPU runs, narrowest first.
std::vector<const Kernels*> supported_kernels();

// Picks the kernels kernels() returns from now on (tests use this to run
// every path). Returns false, changing nothing, if the CPU lacks the ISA.
bool select(Isa isa);

namespace generic {
const Kernels& table();
}
namespace avx2 {
const Kernels& table();
}
namespace avx512 {
const Kernels& table();
}

}  // namespace attn::simd
