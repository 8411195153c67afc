// The kernels for AVX-512 (F, BW, DQ, VL) with FMA: 16 floats a register,
// a 12 x 32 matrix-multiply tile (24 accumulators of the 32 registers).
// Compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma; called only
// after kernels.cpp has checked the CPU.
#include <immintrin.h>

#include "kernels.hpp"

namespace attn::simd::avx512 {
namespace {

struct Vec {
  using T = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  static T zero() { return _mm512_setzero_ps(); }
  static T set1(float x) { return _mm512_set1_ps(x); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T x) { _mm512_storeu_ps(p, x); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static float hsum(T x) { return _mm512_reduce_add_ps(x); }
  static float hmax(T x) { return _mm512_reduce_max_ps(x); }
  static T round(T x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T pow2(T n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static M visible(const std::uint8_t* p) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm_test_epi8_mask(b, b);
  }
  static M less(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static T select(M m, T a, T b) { return _mm512_mask_blend_ps(m, b, a); }
  static void to_half(const float* x, std::uint16_t* h) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h), _mm512_cvtps_ph(load(x), _MM_FROUND_TO_NEAREST_INT));
  }
  static void from_half(const std::uint16_t* h, float* x) {
    store(x, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h))));
  }
};

constexpr Isa kIsa = Isa::Avx512;
constexpr const char* kName = "avx512";
constexpr int kMR = 12, kNV = 2;

}  // namespace
}  // namespace attn::simd::avx512

#define ATTN_KERNELS_IMPL_NS avx512
#include "kernels_impl.hpp"
