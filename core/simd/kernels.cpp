#include "kernels.hpp"

#if defined(ATTN_X86_KERNELS)
#include <cpuid.h>
#endif

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace attn::simd {
namespace {

#if defined(ATTN_X86_KERNELS)
// F16C (half-precision conversions): CPUID leaf 1, ECX bit 29. Every AVX2
// CPU made has it; checked all the same (clang's __builtin_cpu_supports
// does not know the name).
bool has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
}
#endif

bool cpu_has(Isa isa) {
#if defined(ATTN_X86_KERNELS)
  // GCC's checks include the operating system's support for the wider
  // registers (XGETBV), not only the CPUID bits.
  __builtin_cpu_init();
  switch (isa) {
    case Isa::Generic:
      return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    case Isa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
  }
  return false;
#else
  return isa == Isa::Generic;
#endif
}

const Kernels* table_of(Isa isa) {
  if (!cpu_has(isa)) return nullptr;
  switch (isa) {
    case Isa::Generic:
      return &generic::table();
#if defined(ATTN_X86_KERNELS)
    case Isa::Avx2:
      return &avx2::table();
    case Isa::Avx512:
      return &avx512::table();
#else
    default:
      return nullptr;
#endif
  }
  return nullptr;
}

// The widest the CPU runs, capped by ATTNSCOPE_ISA when that is set.
const Kernels* initial() {
  Isa cap = Isa::Avx512;
  if (const char* e = std::getenv("ATTNSCOPE_ISA")) {
    if (std::strcmp(e, "generic") == 0) cap = Isa::Generic;
    if (std::strcmp(e, "avx2") == 0) cap = Isa::Avx2;
  }
  for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Generic})
    if (static_cast<int>(isa) <= static_cast<int>(cap))
      if (const Kernels* k = table_of(isa)) return k;
  return &generic::table();
}

std::atomic<const Kernels*>& current() {
  static std::atomic<const Kernels*> k{initial()};
  return k;
}

}  // namespace

const Kernels& kernels() { return *current().load(std::memory_order_relaxed); }

const Kernels* kernels_for(Isa isa) { return table_of(isa); }

std::vector<const Kernels*> supported_kernels() {
  std::vector<const Kernels*> out;
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512})
    if (const Kernels* k = table_of(isa)) out.push_back(k);
  return out;
}

bool select(Isa isa) {
  const Kernels* k = table_of(isa);
  if (!k) return false;
  current().store(k, std::memory_order_relaxed);
  return true;
}

}  // namespace attn::simd
