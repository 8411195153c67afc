#include "commands.hpp"
#include "core/budget.hpp"
#include "core/error.hpp"

namespace cli {

attn::AttentionOptions attention_options(const Args& args) {
  attn::AttentionOptions opt;
  opt.temperature = args.get_double("temperature", 1.0);
  attn::check_temperature(opt.temperature, "--temperature");
  opt.score = args.get_enum("score", attn::Score::ScaledDot);
  opt.norm = args.get_enum("norm", attn::Norm::Softmax);
  opt.seed = static_cast<std::uint64_t>(args.get_int("seed", 0, 0, (1LL << 53)));
  return opt;
}

attn::OverlayStyle overlay_style(const Args& args) {
  attn::OverlayStyle style;
  style.colormap = args.get_enum("colormap", style.colormap);
  style.opacity = static_cast<float>(args.get_double("opacity", style.opacity));
  if (!(style.opacity >= 0.0f && style.opacity <= 1.0f)) throw attn::Error("--opacity must be in [0, 1]");
  style.upsample = args.get_enum("upsample", style.upsample);
  style.scale = args.get_enum("scale", style.scale);
  style.grid = !args.has("no-grid");
  style.scale_includes_outlined = args.has("scale-includes-query");
  return style;
}

app::FigureSize figure_size(const Args& args) {
  return app::figure_size(args.get("width").value_or(""), args.get_double("dpi", 0.0));
}

void check_matrix_budget(const Args& args, long long heads, long long nq, long long nk) {
  const long long budget_mb = args.get_int("max-matrix-mb", 1024, 1, 1LL << 30);
  attn::check_budget(
      attn::matrix_bytes(2.0 * static_cast<double>(heads), static_cast<double>(nq), static_cast<double>(nk)),
      static_cast<double>(budget_mb) * 1048576.0,
      "the attention matrices (logits and weights, " + std::to_string(heads) + " x " + std::to_string(nq) + " x " +
          std::to_string(nk) + " floats each)",
      "set by --max-matrix-mb " + std::to_string(budget_mb),
      "use fewer tokens (a larger patch), ask for --output-out alone (no matrix kept) or raise the "
      "limit");
}

}  // namespace cli
