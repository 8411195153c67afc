#include "commands.hpp"
#include "core/error.hpp"
#include "core/io.hpp"

namespace cli {

attn::AttentionOptions attention_options(const Args& args) {
  attn::AttentionOptions opt;
  opt.temperature = args.get_double("temperature", 1.0);
  attn::check_temperature(opt.temperature, "--temperature");
  opt.score = static_cast<attn::Score>(args.get_choice("score", {"scaled-dot", "dot", "cosine", "additive", "raw"}, 0));
  opt.norm = static_cast<attn::Norm>(args.get_choice("norm", {"softmax", "sparsemax", "none"}, 0));
  opt.seed = static_cast<std::uint64_t>(args.get_int("seed", 0, 0, (1LL << 53)));
  return opt;
}

attn::OverlayStyle overlay_style(const Args& args) {
  attn::OverlayStyle style;
  if (const auto name = args.get("colormap")) {
    const auto cm = attn::colormap_from_name(*name);
    if (!cm) throw attn::Error("--colormap: unknown colormap '" + *name + "'");
    style.colormap = *cm;
  }
  style.opacity = static_cast<float>(args.get_double("opacity", style.opacity));
  if (!(style.opacity >= 0.0f && style.opacity <= 1.0f)) throw attn::Error("--opacity must be in [0, 1]");
  style.upsample =
      args.get_choice("upsample", {"nearest", "bilinear"}, 1) == 0 ? attn::Upsample::Nearest : attn::Upsample::Bilinear;
  style.scale = static_cast<attn::MapScale>(args.get_choice("scale", {"max", "minmax", "fixed"}, 0));
  style.grid = !args.has("no-grid");
  return style;
}

void check_matrix_budget(const Args& args, long long heads, long long nq, long long nk) {
  const long long budget_mb = args.get_int("max-matrix-mb", 1024, 1, 1LL << 30);
  const double bytes = 2.0 * 4.0 * static_cast<double>(heads) * static_cast<double>(nq) * static_cast<double>(nk);
  if (bytes > static_cast<double>(budget_mb) * 1048576.0)
    throw attn::Error(
        "the attention matrices (logits and weights, " + std::to_string(heads) + " x " + std::to_string(nq) + " x " +
        std::to_string(nk) + " floats each) need " + attn::format_bytes(static_cast<std::uint64_t>(bytes)) +
        ", more than --max-matrix-mb " + std::to_string(budget_mb) +
        "; use fewer tokens (a larger patch), ask for --output-out alone (no matrix " + "kept) or raise the limit");
}

}  // namespace cli
