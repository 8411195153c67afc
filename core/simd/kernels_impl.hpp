// The kernels, written once over a vector type `Vec` that the including file
// defines (kernels_avx512.cpp, kernels_avx2.cpp, kernels_generic.cpp), each
// inside its own namespace and compiled with its own -m flags.
//
// Rules for this file (they keep wide instructions out of code that runs
// on older CPUs): no standard-library templates or inline functions that
// other files also instantiate (the linker keeps one copy of each, and it
// could be this file's AVX-512 one); only raw pointers, the intrinsics
// behind Vec and functions local to the namespace.
//
// Vec provides: T (the register type), W (floats per register), M (a lane
// mask), zero, set1, load, store (unaligned), add, sub, mul, max, fma
// (a * b + c), hsum, hmax, round (to the nearest integer, as floats),
// min, pow2 (2^n for integral n in [-126, 127]), visible (lanes whose byte
// is not 0), less (a < b per lane), select (m ? a : b), to_half and
// from_half (W floats <-> W IEEE halves, nearest even); and the constants
// kIsa, kName, kMR (tile rows) and kNV (tile columns in registers).
#ifndef ATTN_KERNELS_IMPL_NS
#error "define ATTN_KERNELS_IMPL_NS before including kernels_impl.hpp"
#endif

namespace attn {
// The scalar conversions (tensor_file.cpp, built for baseline x86-64), for the tails:
// declared here because the wide files must not include tensor_file.hpp (it
// brings standard-library templates, see above); the generic file has both.
float half_to_float(std::uint16_t h);  // NOLINT(readability-redundant-declaration)
std::uint16_t float_to_half(float f);  // NOLINT(readability-redundant-declaration)
}  // namespace attn

namespace attn::simd::ATTN_KERNELS_IMPL_NS {
namespace {

using T = Vec::T;
constexpr std::ptrdiff_t W = Vec::W;  // (ptrdiff_t: products with it are pointer offsets)

// exp(x) for float lanes: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in
// two parts so n ln2 is exact enough), e^r by its Taylor series to r^7
// (truncation error below 1e-8 relative on that interval), times 2^n built
// in the exponent bits. Lanes below -87.3 (where e^x leaves the normal float
// range) are set to exactly 0; callers only pass x <= 0, and x is clamped
// at 88 so 2^n never overflows.
inline T exp_v(T x) {
  const T lo = Vec::set1(-87.33654f);
  const Vec::M tiny = Vec::less(x, lo);
  T xc = Vec::max(x, lo);
  xc = Vec::min(xc, Vec::set1(88.0f));
  const T n = Vec::round(Vec::mul(xc, Vec::set1(1.44269504088896341f)));
  T r = Vec::fma(n, Vec::set1(-0.693145751953125f), xc);   // ln2, high part (exact in 15 bits)
  r = Vec::fma(n, Vec::set1(-1.428606765330187e-06f), r);  // ln2 - high part
  T p = Vec::set1(1.0f / 5040.0f);
  p = Vec::fma(p, r, Vec::set1(1.0f / 720.0f));
  p = Vec::fma(p, r, Vec::set1(1.0f / 120.0f));
  p = Vec::fma(p, r, Vec::set1(1.0f / 24.0f));
  p = Vec::fma(p, r, Vec::set1(1.0f / 6.0f));
  p = Vec::fma(p, r, Vec::set1(0.5f));
  p = Vec::fma(p, r, Vec::set1(1.0f));
  p = Vec::fma(p, r, Vec::set1(1.0f));
  return Vec::select(tiny, Vec::zero(), Vec::mul(p, Vec::pow2(n)));
}

// C[MR x NV W] = alpha * (A B) (+ C), A's element (i, p) at a[p * MR + i]
// when Packed (gemm_tile), else at a[i * lda + p] (gemm_tile_rows: A read
// where it lies, for products whose A is used by one or two of B's panels,
// attention's weights times V, where packing A would cost about as much as
// the product reads it).
template <int MR, int NV, bool Packed>
void tile(int kc, const float* a, std::ptrdiff_t lda, const float* b, float* c, std::ptrdiff_t ldc, float alpha,
          bool accumulate) {
  // C's tile is read (when accumulating) and written after the loop: ask for
  // its lines now, so they arrive while the loop runs instead of after it.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + NV * W - 1, 1);
  }
  // Forget the addresses just computed: kept for the stores after the loop,
  // they took the registers of the loop's B values, which GCC then reloaded
  // from the stack at every step (one core: 165 GFLOP/s instead of 235).
  asm("" : "+r"(c));
  T acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[i][v] = Vec::zero();
  for (int p = 0; p < kc; ++p) {
    T bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = Vec::load(b + v * W);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const T ai = Vec::set1(Packed ? a[i] : a[i * lda]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = Vec::fma(ai, bv[v], acc[i][v]);
    }
    a += Packed ? MR : 1;
    b += NV * W;
  }
  const T al = Vec::set1(alpha);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      float* ci = c + i * ldc + v * W;
      T r = Vec::mul(acc[i][v], al);
      if (accumulate) r = Vec::add(r, Vec::load(ci));
      Vec::store(ci, r);
    }
}

template <int MR, int NV>
void gemm_tile(int kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc, float alpha, bool accumulate) {
  tile<MR, NV, true>(kc, a, 0, b, c, ldc, alpha, accumulate);
}

template <int MR, int NV>
void gemm_tile_rows(int kc, const float* a, std::ptrdiff_t lda, const float* b, float* c, std::ptrdiff_t ldc,
                    float alpha, bool accumulate) {
  tile<MR, NV, false>(kc, a, lda, b, c, ldc, alpha, accumulate);
}

float row_max(const float* z, const std::uint8_t* visible, int n) {
  const T neg_inf = Vec::set1(-__builtin_inff());
  T m = neg_inf, bad = Vec::zero();
  int j = 0;
  for (; j + W <= n; j += W) {
    const T x = Vec::load(z + j);
    bad = Vec::add(bad, Vec::sub(x, x));  // NaN once any x is NaN or infinite
    m = Vec::max(m, visible ? Vec::select(Vec::visible(visible + j), x, neg_inf) : x);
  }
  float best = Vec::hmax(m);
  float b = Vec::hsum(bad);
  for (; j < n; ++j) {
    b += z[j] - z[j];
    if ((!visible || visible[j]) && z[j] > best) best = z[j];
  }
  return b == 0.0f ? best : __builtin_nanf("");
}

double exp_row(const float* z, const std::uint8_t* visible, int n, float shift, float scale, float* w) {
  const T sh = Vec::set1(shift), sc = Vec::set1(scale);
  double total = 0.0;
  int j = 0;
  // Blocks of 32 registers: each lane sums at most 16 terms in float.
  while (j + W <= n) {
    T s0 = Vec::zero(), s1 = Vec::zero();
    const int end = j + 32 * W <= n ? j + 32 * W : n;
    for (; j + 2 * W <= end; j += 2 * W) {
      T e0 = exp_v(Vec::mul(Vec::sub(Vec::load(z + j), sh), sc));
      T e1 = exp_v(Vec::mul(Vec::sub(Vec::load(z + j + W), sh), sc));
      if (visible) {
        e0 = Vec::select(Vec::visible(visible + j), e0, Vec::zero());
        e1 = Vec::select(Vec::visible(visible + j + W), e1, Vec::zero());
      }
      Vec::store(w + j, e0);
      Vec::store(w + j + W, e1);
      s0 = Vec::add(s0, e0);
      s1 = Vec::add(s1, e1);
    }
    if (j + W <= end) {
      T e0 = exp_v(Vec::mul(Vec::sub(Vec::load(z + j), sh), sc));
      if (visible) e0 = Vec::select(Vec::visible(visible + j), e0, Vec::zero());
      Vec::store(w + j, e0);
      s0 = Vec::add(s0, e0);
      j += W;
    }
    total += static_cast<double>(Vec::hsum(Vec::add(s0, s1)));
  }
  if (j < n) {  // the tail through one padded register, so every element gets the same exp
    float zt[W], vt[W];
    std::uint8_t mt[W];
    for (int t = 0; t < W; ++t) {
      zt[t] = j + t < n ? z[j + t] : shift;
      mt[t] = j + t < n && (!visible || visible[j + t]) ? 1 : 0;
    }
    Vec::store(vt, Vec::select(Vec::visible(mt), exp_v(Vec::mul(Vec::sub(Vec::load(zt), sh), sc)), Vec::zero()));
    for (int t = 0; j + t < n; ++t) {
      w[j + t] = vt[t];
      total += static_cast<double>(vt[t]);
    }
  }
  return total;
}

void scale_row(float* x, int n, float s) {
  const T sv = Vec::set1(s);
  int j = 0;
  for (; j + W <= n; j += W) Vec::store(x + j, Vec::mul(Vec::load(x + j), sv));
  for (; j < n; ++j) x[j] *= s;
}

inline float dot(const float* a, const float* b, int d) {
  T acc0 = Vec::zero(), acc1 = Vec::zero();
  int t = 0;
  for (; t + 2 * W <= d; t += 2 * W) {
    acc0 = Vec::fma(Vec::load(a + t), Vec::load(b + t), acc0);
    acc1 = Vec::fma(Vec::load(a + t + W), Vec::load(b + t + W), acc1);
  }
  if (t + W <= d) {
    acc0 = Vec::fma(Vec::load(a + t), Vec::load(b + t), acc0);
    t += W;
  }
  float s = Vec::hsum(Vec::add(acc0, acc1));
  for (; t < d; ++t) s += a[t] * b[t];
  return s;
}

void dot_rows(const float* k, std::ptrdiff_t ldk, int n, int d, const float* q, float alpha, float* y) {
  for (int j = 0; j < n; ++j) y[j] = alpha * dot(k + j * ldk, q, d);
}

void weighted_rows(const float* v, std::ptrdiff_t ldv, int n, int d, const float* w, float* out) {
  constexpr int kAcc = 64 / W < 8 ? static_cast<int>(64 / W) : 8;  // registers of columns per pass
  int t = 0;
  for (; t + kAcc * W <= d; t += kAcc * W) {
    T acc[kAcc];
#pragma GCC unroll 8
    for (int a = 0; a < kAcc; ++a) acc[a] = Vec::load(out + t + a * W);
    for (int j = 0; j < n; ++j) {
      if (w[j] == 0.0f) continue;
      const T wj = Vec::set1(w[j]);
      const float* row = v + j * ldv + t;
#pragma GCC unroll 8
      for (int a = 0; a < kAcc; ++a) acc[a] = Vec::fma(wj, Vec::load(row + a * W), acc[a]);
    }
#pragma GCC unroll 8
    for (int a = 0; a < kAcc; ++a) Vec::store(out + t + a * W, acc[a]);
  }
  for (; t + W <= d; t += W) {
    T acc = Vec::load(out + t);
    for (int j = 0; j < n; ++j)
      if (w[j] != 0.0f) acc = Vec::fma(Vec::set1(w[j]), Vec::load(v + j * ldv + t), acc);
    Vec::store(out + t, acc);
  }
  for (; t < d; ++t) {
    float acc = out[t];
    for (int j = 0; j < n; ++j) acc += w[j] * v[j * ldv + t];
    out[t] = acc;
  }
}

// GELU, x Φ(x) = 0.5 x (1 + erf(x / √2)), with erf from Abramowitz & Stegun
// (1964), eq. 7.1.26: erf(a) = 1 - t (a1 + t (a2 + ... + t a5)) e^(-a²),
// t = 1 / (1 + p a) for a >= 0, odd in a; absolute error below 1.5e-7.
void gelu_row(float* x, int n) {
  const T half = Vec::set1(0.5f), one = Vec::set1(1.0f), zero = Vec::zero();
  auto gelu = [&](T v) {
    const T a = Vec::mul(v, Vec::set1(0.70710678118654752f));
    const T abs = Vec::max(a, Vec::sub(zero, a));
    const T t = Vec::div(one, Vec::fma(Vec::set1(0.3275911f), abs, one));
    T poly = Vec::set1(1.061405429f);
    poly = Vec::fma(poly, t, Vec::set1(-1.453152027f));
    poly = Vec::fma(poly, t, Vec::set1(1.421413741f));
    poly = Vec::fma(poly, t, Vec::set1(-0.284496736f));
    poly = Vec::fma(poly, t, Vec::set1(0.254829592f));
    const T erf_abs = Vec::sub(one, Vec::mul(Vec::mul(poly, t), exp_v(Vec::sub(zero, Vec::mul(abs, abs)))));
    const T erf = Vec::select(Vec::less(a, zero), Vec::sub(zero, erf_abs), erf_abs);
    return Vec::mul(Vec::mul(half, v), Vec::add(one, erf));
  };
  int j = 0;
  for (; j + W <= n; j += W) Vec::store(x + j, gelu(Vec::load(x + j)));
  if (j < n) {
    float t[W];
    for (int i = 0; i < W; ++i) t[i] = j + i < n ? x[j + i] : 0.0f;
    Vec::store(t, gelu(Vec::load(t)));
    for (int i = 0; j + i < n; ++i) x[j + i] = t[i];
  }
}

void to_half(const float* x, std::uint16_t* h, std::size_t n) {
  std::size_t j = 0;
  for (; j + W <= n; j += W) Vec::to_half(x + j, h + j);
  for (; j < n; ++j) h[j] = float_to_half(x[j]);
}

void from_half(const std::uint16_t* h, float* x, std::size_t n) {
  std::size_t j = 0;
  for (; j + W <= n; j += W) Vec::from_half(h + j, x + j);
  for (; j < n; ++j) x[j] = half_to_float(h[j]);
}

}  // namespace

const Kernels& table() {
  static constexpr Kernels kTable{
      kIsa,     kName,     kMR,        kNV * W,   &gemm_tile<kMR, kNV>, &gemm_tile_rows<kMR, kNV>,
      &row_max, &exp_row,  &scale_row, &dot_rows, &weighted_rows,       &gelu_row,
      &to_half, &from_half};
  return kTable;
}

}  // namespace attn::simd::ATTN_KERNELS_IMPL_NS
