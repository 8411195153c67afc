// The portable kernels: SSE2 (part of every x86-64) with a 4 x 8
// matrix-multiply tile, or plain C++ one float at a time on other CPUs.
// Compiled with the project's baseline flags.
#include "../tensor_file.hpp"
#include "kernels.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace attn::simd::generic {
namespace {

#if defined(__SSE2__)
struct Vec {
  using T = __m128;
  using M = __m128;  // all ones in the lanes that are set
  static constexpr int W = 4;
  static T zero() { return _mm_setzero_ps(); }
  static T set1(float x) { return _mm_set1_ps(x); }
  static T load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, T x) { _mm_storeu_ps(p, x); }
  static T add(T a, T b) { return _mm_add_ps(a, b); }
  static T sub(T a, T b) { return _mm_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm_mul_ps(a, b); }
  static T div(T a, T b) { return _mm_div_ps(a, b); }
  static T max(T a, T b) { return _mm_max_ps(a, b); }
  static T min(T a, T b) { return _mm_min_ps(a, b); }
  static T fma(T a, T b, T c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }  // no FMA in SSE2
  static float hsum(T x) {
    const T s = _mm_add_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
  }
  static float hmax(T x) {
    const T s = _mm_max_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_shuffle_ps(s, s, 1)));
  }
  // Inputs are within [-128, 128]: the conversion rounds to nearest.
  static T round(T x) { return _mm_cvtepi32_ps(_mm_cvtps_epi32(x)); }
  static T pow2(T n) {
    const __m128i e = _mm_add_epi32(_mm_cvtps_epi32(n), _mm_set1_epi32(127));
    return _mm_castsi128_ps(_mm_slli_epi32(e, 23));
  }
  static M visible(const std::uint8_t* p) {
    int bytes;
    __builtin_memcpy(&bytes, p, sizeof bytes);
    const __m128i zero = _mm_setzero_si128();
    const __m128i b = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(bytes), zero), zero);
    return _mm_castsi128_ps(_mm_cmpgt_epi32(b, zero));
  }
  static M less(T a, T b) { return _mm_cmplt_ps(a, b); }
  static void to_half(const float* x, std::uint16_t* h) {
    for (int i = 0; i < W; ++i) h[i] = float_to_half(x[i]);
  }
  static void from_half(const std::uint16_t* h, float* x) {
    for (int i = 0; i < W; ++i) x[i] = half_to_float(h[i]);
  }
  static T select(M m, T a, T b) { return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b)); }
};
constexpr int kMR = 4, kNV = 2;
#else
struct Vec {
  using T = float;
  using M = bool;
  static constexpr int W = 1;
  static T zero() { return 0.0f; }
  static T set1(float x) { return x; }
  static T load(const float* p) { return *p; }
  static void store(float* p, T x) { *p = x; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T div(T a, T b) { return a / b; }
  static T max(T a, T b) { return a > b ? a : b; }
  static T min(T a, T b) { return a < b ? a : b; }
  static T fma(T a, T b, T c) { return a * b + c; }
  static float hsum(T x) { return x; }
  static float hmax(T x) { return x; }
  static T round(T x) { return __builtin_nearbyintf(x); }
  static T pow2(T n) {
    const int bits = (static_cast<int>(n) + 127) << 23;
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
  }
  static M visible(const std::uint8_t* p) { return *p != 0; }
  static M less(T a, T b) { return a < b; }
  static T select(M m, T a, T b) { return m ? a : b; }
  static void to_half(const float* x, std::uint16_t* h) { *h = float_to_half(*x); }
  static void from_half(const std::uint16_t* h, float* x) { *x = half_to_float(*h); }
};
constexpr int kMR = 4, kNV = 4;
#endif

constexpr Isa kIsa = Isa::Generic;
constexpr const char* kName = "generic";

}  // namespace
}  // namespace attn::simd::generic

#define ATTN_KERNELS_IMPL_NS generic
#include "kernels_impl.hpp"
