#pragma once
// Large buffers: first touches of fresh memory are what big results cost
// most here (a page fault every 4 KiB); 2 MiB pages cut that 512-fold where
// the kernel offers them on request (transparent_hugepage = madvise,
// Debian's default).
#include <cstddef>
#include <vector>

namespace attn {

// Asks for 2 MiB pages over the whole 2 MiB-aligned part of [p, p + bytes).
// Advice only: nothing changes if it is refused.
void advise_huge_pages(const void* p, std::size_t bytes);

namespace detail {
// n value-initialised elements, the pages advised before they are touched.
template <typename T>
std::vector<T> large_vector(std::size_t n) {
  std::vector<T> v;
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(T));
  v.resize(n);
  return v;
}
}  // namespace detail

}  // namespace attn
