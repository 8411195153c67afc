// attnscope-cli attend: attention on Q, K, V given as .npy or CSV files.
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "common/tensors.hpp"
#include "core/error.hpp"
#include "core/npy.hpp"

namespace cli {

using app::load_tensor;
using app::to_heads;
using app::to_matrix;

namespace {

constexpr const char* kHelp = R"(usage: attnscope-cli attend --q Q.npy --k K.npy [--v V.npy] [options]

Computes weights = normalise(score(Q, K) / T) and output = weights · V.

Inputs (.npy float32/float64, or .csv):
  --q FILE, --k FILE, --v FILE
      2-D [N, d] (split into --heads equal heads along d, as multi-head
      attention does) or 3-D [H, N, d_head]. V is optional.
  --heads H              number of heads for 2-D inputs (default: from 3-D
                         inputs, else 1)
  --wq W --wk W --wv W --wo W   optional projections, PyTorch nn.Linear
                         layout [d_out, d_in]: Q = q Wqᵀ + bq, ...; then
                         output = concat(heads) Woᵀ + bo, as
                         torch.nn.MultiheadAttention. Inputs must be 2-D.
  --bq B --bk B --bv B --bo B   optional biases [d_out] (.npy)

Attention:
  --score scaled-dot|dot|cosine|additive|raw   (default scaled-dot)
  --norm softmax|sparsemax|none                (default softmax; raw forces none)
  --temperature T        T > 0 (default 1)
  --mask none|causal     causal: query i sees keys j <= i (needs Nq = Nk)
  --seed S               seed of the additive score's parameters (default 0)
  --max-matrix-mb MB     refuse jobs whose matrices exceed this (default 1024);
                         with --output-out alone no matrix is kept (online
                         softmax over blocks of keys) and no limit applies

Outputs (written whole or not at all):
  --weights-out W.npy    float32 [H, Nq, Nk]
  --output-out O.npy     float32, the rank of V: [Nq, H·d_v] for 2-D V,
                         [H, Nq, d_v] for 3-D V; [Nq, d_out] with --wo
  --stats                per-row statistics on stdout: entropy (nats, bits),
                         effective number of keys, max weight, argmax
)";

attn::Vector load_bias(const Args& args, const char* name) {
  const auto path = args.get(name);
  if (!path) return {};
  const attn::Array a = attn::read_npy(*path);
  if (a.rank() != 1) throw attn::Error(*path + ": a bias must be 1-D");
  return Eigen::Map<const attn::Vector>(a.data.data(), static_cast<Eigen::Index>(a.data.size()));
}

void print_stats(const attn::MultiHeadResult& r) {
  std::printf("head\trow\tentropy_nats\tentropy_bits\teffective_keys\tmax_weight\targmax\n");
  for (size_t h = 0; h < r.heads.size(); ++h) {
    const attn::Matrix& w = r.heads[h].weights;
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
      const auto s = attn::row_stats(std::span<const float>(w.row(i).data(), static_cast<size_t>(w.cols())));
      if (s.is_distribution)
        std::printf("%zu\t%lld\t%.6f\t%.6f\t%.3f\t%.6f\t%d\n", h, static_cast<long long>(i), s.entropy_nats,
                    s.entropy_bits, s.effective_keys, s.max_weight, s.argmax);
      else
        std::printf("%zu\t%lld\tn/a\tn/a\tn/a\t%.6f\t%d\n", h, static_cast<long long>(i), s.max_weight, s.argmax);
    }
  }
}

}  // namespace

int run_attend(int argc, char** argv) {
  std::vector<OptionSpec> spec = {{"q"},          {"k"},  {"v"},  {"heads"},       {"mask"}, {"weights-out"},
                                  {"output-out"}, {"wq"}, {"wk"}, {"wv"},          {"wo"},   {"bq"},
                                  {"bk"},         {"bv"}, {"bo"}, {"stats", false}};
  spec.insert(spec.end(), kAttentionOptionSpecs.begin(), kAttentionOptionSpecs.end());
  const Args args(argc, argv, 2, spec);
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::string q_path = args.require("q"), k_path = args.require("k");
  const bool projected = args.has("wq") || args.has("wk") || args.has("wv") || args.has("wo");
  if (projected && !(args.has("wq") && args.has("wk") && args.has("wv") && args.has("wo")))
    throw UsageError("--wq, --wk, --wv and --wo go together");
  if (projected && !args.has("v")) throw UsageError("projections need --v");
  if (args.has("output-out") && !args.has("v")) throw UsageError("--output-out needs --v");
  attn::AttentionOptions opt = attention_options(args);
  opt.mask.structure = args.get_enum("mask", attn::MaskStructure::None);
  if (opt.mask.structure == attn::MaskStructure::Local)
    throw attn::Error("--mask local needs a patch grid; attend's tokens have none (use none or causal)");

  const attn::Array qa = load_tensor(q_path), ka = load_tensor(k_path);
  const std::optional<attn::Array> va = args.has("v") ? std::optional(load_tensor(*args.get("v"))) : std::nullopt;

  // The head count: from 3-D inputs, else --heads, else 1; all must agree.
  long long heads = args.has("heads") ? args.get_int("heads", 1, 1, 4096) : 0;
  using Named = std::pair<const attn::Array*, const char*>;
  for (const auto& [a, name] : {Named{&qa, "Q"}, Named{&ka, "K"}, Named{va ? &*va : nullptr, "V"}}) {
    if (!a || a->rank() != 3) continue;
    if (projected) throw attn::Error(std::string(name) + ": projections need 2-D inputs [N, d_model]");
    if (heads && heads != a->dim(0))
      throw attn::Error(std::string(name) + " has " + std::to_string(a->dim(0)) + " heads but " +
                        (args.has("heads") ? "--heads is " : "another input has ") + std::to_string(heads));
    heads = a->dim(0);
  }
  if (heads == 0) heads = 1;
  const long long nq = qa.dim(qa.rank() - 2), nk = ka.dim(ka.rank() - 2);
  // Only the output asked for: the online path keeps no Nq x Nk matrix, so
  // no matrix budget applies (memory O(N · d)).
  const bool output_only = args.has("output-out") && !args.has("weights-out") && !args.has("stats") && !projected;
  if (!output_only) check_matrix_budget(args, heads, nq, nk);

  attn::MultiHeadResult result;
  if (projected) {
    const attn::Matrix xq = to_matrix(qa, "Q"), xk = to_matrix(ka, "K"), xv = to_matrix(*va, "V");
    attn::check_finite(xq, "Q");
    attn::check_finite(xk, "K");
    attn::check_finite(xv, "V");
    attn::MultiHeadProjections p;
    p.q = {to_matrix(load_tensor(*args.get("wq")), "--wq"), load_bias(args, "bq")};
    p.k = {to_matrix(load_tensor(*args.get("wk")), "--wk"), load_bias(args, "bk")};
    p.v = {to_matrix(load_tensor(*args.get("wv")), "--wv"), load_bias(args, "bv")};
    p.o = {to_matrix(load_tensor(*args.get("wo")), "--wo"), load_bias(args, "bo")};
    result = attn::multi_head_attention(xq, xk, xv, p, static_cast<int>(heads), opt);
  } else {
    const attn::Heads q = to_heads(qa, static_cast<int>(heads), "Q"), k = to_heads(ka, static_cast<int>(heads), "K");
    const attn::Heads v = va ? to_heads(*va, static_cast<int>(heads), "V") : attn::Heads{};
    for (int h = 0; h < heads; ++h) {
      attn::check_finite(q[static_cast<size_t>(h)], "Q", h);
      attn::check_finite(k[static_cast<size_t>(h)], "K", h);
      if (va) attn::check_finite(v[static_cast<size_t>(h)], "V", h);
    }
    if (output_only) {
      result.output = attn::attend_heads_output(q, k, v, opt);
      const Eigen::Index dv = result.output.cols() / heads;
      for (int h = 0; h < heads; ++h) result.heads.push_back({{}, {}, result.output.middleCols(h * dv, dv)});
    } else {
      result = attn::attend_heads(q, k, v, opt);
    }
  }

  // Everything is computed before anything is written.
  if (const auto path = args.get("weights-out")) {
    std::vector<float> w;
    w.reserve(static_cast<size_t>(heads * nq * nk));
    for (const auto& h : result.heads) w.insert(w.end(), h.weights.data(), h.weights.data() + h.weights.size());
    const std::int64_t shape[3] = {heads, nq, nk};
    attn::write_npy(*path, shape, w);
  }
  if (const auto path = args.get("output-out")) {
    if (va->rank() == 3 && !projected) {
      std::vector<float> o;
      for (const auto& h : result.heads) o.insert(o.end(), h.output.data(), h.output.data() + h.output.size());
      const std::int64_t shape[3] = {heads, nq, result.heads.front().output.cols()};
      attn::write_npy(*path, shape, o);
    } else {
      const std::int64_t shape[2] = {result.output.rows(), result.output.cols()};
      attn::write_npy(*path, shape,
                      std::span<const float>(result.output.data(), static_cast<size_t>(result.output.size())));
    }
  }
  if (args.has("stats"))
    print_stats(result);
  else
    std::printf("attend: %lld head(s), %lld queries, %lld keys\n", heads, nq, nk);
  return 0;
}

}  // namespace cli
