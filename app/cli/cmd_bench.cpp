// attnscope-cli bench: times the engine's operations on random inputs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <sstream>

#include "commands.hpp"
#include "common/resources.hpp"
#include "core/captioner.hpp"
#include "core/captioner_scene.hpp"
#include "core/error.hpp"
#include "core/gemm.hpp"
#include "core/io.hpp"
#include "core/overlay.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "core/simd/kernels.hpp"
#include "core/vit.hpp"

namespace cli {
namespace {

constexpr const char* kHelp = R"(usage: attnscope-cli bench [options]

Times the engine on random inputs: each case runs once to warm up, then
--repeats times; the median is reported with its rate. Attention counts
4 * H * Nq * Nk * d_head floating-point operations; a product of
[n, k] by [k, m] counts 2 * n * k * m.

Cases (--cases, comma-separated; default gemm,full,output,row,renorm):
  gemm      the engine's own sgemm on [M, M] x [M, M], M = --gemm-size
  full      multi-head attention keeping logits and weights (the matrix view,
            rollout): H x N x N floats of each
  output    output only, online softmax over key blocks: no N x N matrix
  row       one query row in every head: scores, weights and output (a click)
  renorm    a new temperature on cached logits: one row, then all H x N x N
  vit       the Vision Transformer in --vit on a random --vit-size square
            image (default 224), every layer's attention kept; and the time
            to open the weights into a model ready to run
  caption   the bundled captioner (or --captioner DIR) on a drawn scene: the
            caption and every attention map, and opening the model
  overlay   the CPU overlay of a random 2048 x 2048 image at patch 8 (65536
            patches), shown in 840 x 840 pixels (the app's view on a
            software OpenGL), bilinear
Options:
  --n N  --heads H  --d-head D   the problem (default 4096, 8, 64)
  --gemm-size M                  the gemm case's side (default 2048)
  --vit W                        weights for the vit case (--vit-heads H if no config.json)
  --vit-size S                   the vit case's image side in pixels (default 224)
  --captioner DIR                the caption case's model (default: the bundled one)
  --vit-stream                   read the blocks from the file as the forward pass
                                 reaches them (as attnscope-cli vit does)
  --repeats R                    timed runs per case (default 5)
  --threads T                    threads (default: all of this machine's)
  --isa generic|avx2|avx512      kernels (default: the widest this CPU runs)
  --max-matrix-mb M              budget for the full and renorm cases (default 2048)
  --json                         one JSON object on stdout instead of a table
)";

struct Result {
  std::string name;
  double ms = 0, min_ms = 0, gflops = 0;
  double bytes = 0;  // the case's largest allocation
};

double median_ms(int repeats, const std::function<void()>& fn, double* min_ms) {
  fn();  // warm-up: page faults, packing buffers, the thread pool
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  *min_ms = t.front();
  return t[t.size() / 2];
}

attn::Heads random_heads(int heads, int rows, int cols, std::uint64_t stream) {
  attn::Heads h;
  for (int i = 0; i < heads; ++i)
    h.push_back(attn::random_matrix(rows, cols, attn::Distribution::Gaussian, 2026, stream * 100 + i));
  return h;
}

// The process's peak resident memory so far (VmHWM), MiB; 0 where unknown.
double peak_rss_mb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
  std::fclose(f);
  return kb / 1024.0;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

}  // namespace

int run_bench(int argc, char** argv) {
  const Args args(argc, argv, 2,
                  {{"n"},
                   {"heads"},
                   {"d-head"},
                   {"gemm-size"},
                   {"cases"},
                   {"vit"},
                   {"captioner"},
                   {"vit-heads"},
                   {"vit-size"},
                   {"vit-stream", false},
                   {"repeats"},
                   {"threads"},
                   {"isa"},
                   {"max-matrix-mb"},
                   {"json", false}});
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const int n = static_cast<int>(args.get_int("n", 4096, 1, 1 << 22));
  const int heads = static_cast<int>(args.get_int("heads", 8, 1, 1024));
  const int d = static_cast<int>(args.get_int("d-head", 64, 1, 4096));
  const int repeats = static_cast<int>(args.get_int("repeats", 5, 1, 1000));
  const int gemm_side = static_cast<int>(args.get_int("gemm-size", 2048, 1, 16384));
  if (args.has("threads")) attn::set_thread_count(static_cast<int>(args.get_int("threads", 0, 1, 256)));
  if (args.has("isa")) {
    const int isa = args.get_choice("isa", {"generic", "avx2", "avx512"}, 0);
    if (!attn::simd::select(static_cast<attn::simd::Isa>(isa)))
      throw attn::Error("--isa " + *args.get("isa") + ": this CPU does not have it");
  }
  const std::vector<std::string> cases = split(args.get("cases").value_or("gemm,full,output,row,renorm"));
  for (const auto& c : cases)
    if (c != "gemm" && c != "full" && c != "output" && c != "row" && c != "renorm" && c != "vit" && c != "overlay" &&
        c != "caption")
      throw UsageError("unknown case '" + c + "' in --cases");
  auto wants = [&](const char* c) { return std::find(cases.begin(), cases.end(), c) != cases.end(); };
  const double budget = static_cast<double>(args.get_int("max-matrix-mb", 2048, 1, 1LL << 30)) * 1048576.0;
  const double matrix_bytes = 4.0 * heads * static_cast<double>(n) * n;  // one H x N x N float tensor
  if ((wants("full") || wants("renorm")) && 2 * matrix_bytes > budget)
    throw attn::Error("the full and renorm cases keep logits and weights, " + attn::format_bytes(2 * matrix_bytes) +
                      ", more than --max-matrix-mb; use a smaller --n or raise the limit");
  if (wants("vit") && !args.has("vit")) throw UsageError("the vit case needs --vit W.safetensors");

  const double attention_flops = 4.0 * heads * static_cast<double>(n) * n * d;
  // Random Q, K, V only for the attention cases (at N = 65536 they take a while).
  attn::Heads q, k, v;
  if (wants("full") || wants("output") || wants("row") || wants("renorm")) {
    q = random_heads(heads, n, d, 1);
    k = random_heads(heads, n, d, 2);
    v = random_heads(heads, n, d, 3);
  }
  attn::AttentionOptions opt;  // scaled dot product, softmax, T = 1
  std::vector<Result> results;
  auto add = [&](const std::string& name, double flops, double bytes, const std::function<void()>& fn) {
    Result r;
    r.name = name;
    r.ms = median_ms(repeats, fn, &r.min_ms);
    r.gflops = flops > 0 ? flops / (r.ms * 1e6) : 0;
    r.bytes = bytes;
    results.push_back(r);
    if (!args.has("json")) {
      std::printf("%-34s %10.3f ms", name.c_str(), r.ms);
      if (r.gflops > 0) std::printf("  %8.1f GFLOP/s", r.gflops);
      std::printf("  (min %.3f ms, largest buffer %s)\n", r.min_ms, attn::format_bytes(bytes).c_str());
      std::fflush(stdout);
    }
  };
  if (!args.has("json"))
    std::printf("attnscope bench: kernels %s, %d threads, N = %d, H = %d, d_head = %d, median of %d\n",
                attn::simd::kernels().name, attn::thread_count(), n, heads, d, repeats);

  if (wants("gemm")) {
    const int m = gemm_side;
    const attn::Matrix a = attn::random_matrix(m, m, attn::Distribution::Gaussian, 1, 1);
    const attn::Matrix b = attn::random_matrix(m, m, attn::Distribution::Gaussian, 1, 2);
    attn::Matrix c(m, m);
    add("sgemm " + std::to_string(m) + "^3", 2.0 * m * m * m, 4.0 * m * m, [&] {
      attn::gemm(m, m, m, 1.0f, {a.data(), m, 1}, {b.data(), m, 1}, c.data(), m);
    });
  }
  attn::MultiHeadResult full;
  if (wants("full") || wants("renorm")) {
    add("full attention, weights kept", attention_flops, 2 * matrix_bytes,
        [&] { full = attn::attend_heads(q, k, v, opt); });
  }
  if (wants("output")) {
    add("output only (online softmax)", attention_flops, 4.0 * n * heads * d,
        [&] { attn::Matrix o = attn::attend_heads_output(q, k, v, opt); });
  }
  if (wants("row")) {
    const int query = n / 2;
    attn::Heads qr;
    for (const auto& h : q) qr.push_back(h.row(query));
    add("one query row, all heads", 4.0 * heads * n * d, 8.0 * heads * n, [&] {
      attn::MultiHeadResult r = attn::attend_heads(qr, k, v, opt, attn::QueryRows{query, n});
    });
  }
  if (wants("renorm")) {
    const int query = n / 2;
    attn::Heads rows;
    for (const auto& h : full.heads) rows.push_back(h.logits.row(query));
    add("renormalise one row, all heads", 0, 4.0 * heads * n, [&] {
      for (const auto& z : rows) attn::Matrix w = attn::normalise(z, attn::Norm::Softmax, 0.7, {}, {query, n});
    });
    // Into the weights already there, as the app's matrix view does.
    add("renormalise H x N x N", 0, matrix_bytes, [&] {
      for (auto& h : full.heads) attn::normalise_into(h.logits, attn::Norm::Softmax, 0.7, {}, {}, h.weights);
    });
  }
  if (wants("vit")) {
    const std::string path = *args.get("vit");
    const int vit_heads = static_cast<int>(args.get_int("vit-heads", 0, 1, 4096));
    const int size = static_cast<int>(args.get_int("vit-size", 224, 16, 4096));
    const bool stream = args.has("vit-stream");
    add("ViT open the weights", 0, 0, [&] { attn::VitModel m = attn::load_vit_file(path, vit_heads, "", stream); });
    const attn::VitModel model = attn::load_vit_file(path, vit_heads, "", stream);
    attn::Image img = attn::Image::blank(size, size);
    const attn::Matrix noise = attn::random_matrix(size * size, 3, attn::Distribution::Uniform, 7, 1, 1.0f);
    for (int i = 0; i < size * size; ++i)
      for (int c = 0; c < 3; ++c)
        img.rgba[static_cast<size_t>(i) * 4 + c] = static_cast<std::uint8_t>(127.5f + 127.0f * noise(i, c));
    attn::VitOptions vo;
    vo.size = 0;
    const int per_side = size / model.patch;  // whole patches
    const double P = static_cast<double>(per_side) * per_side;
    const double N = P + model.prefix_tokens() + model.registers, D = model.width;
    const double M = model.mlp_hidden, mlp_in = model.swiglu ? 2.0 * M : M;
    // Per layer: Q, K, V and the output projection, the MLP, Q Kᵀ and weights · V.
    const double flops = 2.0 * P * D * 3 * model.patch * model.patch +
                         model.depth * (2.0 * N * (4 * D * D + D * mlp_in + M * D) + 4.0 * N * N * D);
    const double maps = 4.0 * model.depth * model.heads * N * N;
    add("ViT forward, " + std::to_string(size) + " x " + std::to_string(size), flops,
        maps <= attn::VitOptions{}.max_f32_attention_bytes ? maps : maps / 2,
        [&] { attn::VitResult r = attn::run_vit(model, img, vo); });
  }

  if (wants("caption")) {
    const std::string dir =
        args.get("captioner").value_or((std::filesystem::path(app::data_dir()) / "captioner").string());
    add("captioner: open the model", 0, 0, [&] { attn::CaptionerModel m = attn::load_captioner_dir(dir); });
    const attn::CaptionerModel model = attn::load_captioner_dir(dir);
    const attn::Image scene = attn::draw_caption_scene(3).image;
    add("captioner: caption one scene, every attention", 0, 0,
        [&] { attn::Caption c = attn::run_captioner(model, scene); });
  }

  if (wants("overlay")) {
    attn::Image img = attn::Image::blank(2048, 2048);
    std::mt19937 rng(11);
    for (auto& c : img.rgba) c = static_cast<std::uint8_t>(rng());
    const attn::PatchGrid grid = attn::make_grid(img.width, img.height, 8);
    std::vector<float> map(static_cast<size_t>(grid.count()));
    for (auto& m : map) m = std::uniform_real_distribution<float>(0.0f, 1.0f)(rng);
    attn::OverlayRegion region;
    region.step = 2048.0f / 840.0f;
    region.width = region.height = 840;
    add("overlay 2048^2 at patch 8 into 840^2", 0, 840.0 * 840 * 4,
        [&] { attn::Image out = attn::render_overlay(img, grid, map, {}, {}, region); });
  }

  if (args.has("json")) {
    std::printf(
        R"({"isa": "%s", "threads": %d, "n": %d, "heads": %d, "d_head": %d, "repeats": %d, "peak_rss_mb": %.1f, "cases": [)",
        attn::simd::kernels().name, attn::thread_count(), n, heads, d, repeats, peak_rss_mb());
    for (size_t i = 0; i < results.size(); ++i)
      std::printf(R"(%s{"name": "%s", "ms": %.6f, "min_ms": %.6f, "gflops": %.3f, "bytes": %.0f})", i ? ", " : "",
                  results[i].name.c_str(), results[i].ms, results[i].min_ms, results[i].gflops, results[i].bytes);
    std::printf("]}\n");
  }
  return 0;
}

}  // namespace cli
