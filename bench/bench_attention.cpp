// Google Benchmark cases for the engine. Not part of the test suite: run
// build/attnscope-bench; results and their context go into bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include "core/attention.hpp"
#include "core/patch_attention.hpp"
#include "core/rng.hpp"

namespace {

attn::Heads random_heads(int h, int n, int d, std::uint64_t stream) {
  attn::Heads out;
  for (int i = 0; i < h; ++i)
    out.push_back(attn::random_matrix(n, d, attn::Distribution::Gaussian, 1, stream * 100 + i));
  return out;
}

// Full multi-head attention keeping the weights: 4·H·N²·d FLOPs.
void BM_FullAttention(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), h = static_cast<int>(state.range(1)),
            d = static_cast<int>(state.range(2));
  const auto q = random_heads(h, n, d, 1), k = random_heads(h, n, d, 2), v = random_heads(h, n, d, 3);
  for (auto _ : state) benchmark::DoNotOptimize(attn::attend_heads(q, k, v, {}));
  state.counters["FLOP/s"] =
      benchmark::Counter(4.0 * h * double(n) * n * d, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_FullAttention)
    ->ArgsProduct({{256, 1024, 2048}, {8}, {64}})
    ->ArgNames({"N", "H", "d"})
    ->Unit(benchmark::kMillisecond);

// Renormalising cached logits after a temperature change: H·N² exps.
void BM_Renormalise(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), h = static_cast<int>(state.range(1));
  const auto q = random_heads(h, n, 64, 1), k = random_heads(h, n, 64, 2);
  const auto r = attn::attend_heads(q, k, {}, {});
  for (auto _ : state)
    for (const auto& head : r.heads)
      benchmark::DoNotOptimize(attn::normalise(head.logits, attn::Norm::Softmax, 0.5, {}));
}
BENCHMARK(BM_Renormalise)->ArgsProduct({{1024, 2048}, {8}})->ArgNames({"N", "H"})->Unit(benchmark::kMillisecond);

// What a click costs: one query row across all heads of an image model.
void BM_QueryRow(benchmark::State& state) {
  const int patch = static_cast<int>(state.range(0));
  const attn::Image img = attn::load_image(ATTNSCOPE_SOURCE_DIR "/assets/sample.png");
  const auto model = attn::PatchModel::build(img, patch, 4, {});
  int query = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(attn::attend_query(model, query, {}));
    query = (query + 7) % model.tokens();
  }
  state.counters["N"] = model.tokens();
}
BENCHMARK(BM_QueryRow)->Arg(16)->Arg(8)->Arg(4)->ArgName("patch")->Unit(benchmark::kMicrosecond);

// Building Q, K, V from an image (features and projections).
void BM_BuildPatchModel(benchmark::State& state) {
  const attn::Image img = attn::load_image(ATTNSCOPE_SOURCE_DIR "/assets/sample.png");
  for (auto _ : state) benchmark::DoNotOptimize(attn::PatchModel::build(img, static_cast<int>(state.range(0)), 4, {}));
}
BENCHMARK(BM_BuildPatchModel)->Arg(16)->Arg(8)->ArgName("patch")->Unit(benchmark::kMillisecond);

}  // namespace
