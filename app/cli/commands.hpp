#pragma once
// The CLI's subcommands. Each returns the process exit code; errors are
// thrown (attn::Error: bad input, exit 3; cli::UsageError: exit 2) and
// reported once, in main().
#include "common/args.hpp"
#include "common/figure.hpp"
#include "core/attention.hpp"
#include "core/overlay.hpp"

namespace cli {

using app::Args;
using app::OptionSpec;
using app::parse_pair;
using app::UsageError;

int run_attend(int argc, char** argv);
int run_render(int argc, char** argv);
int run_vit(int argc, char** argv);
int run_words(int argc, char** argv);
int run_bench(int argc, char** argv);

// Options shared by attend and render.
inline const std::vector<OptionSpec> kAttentionOptionSpecs = {
    {"temperature"}, {"score"}, {"norm"}, {"seed"}, {"max-matrix-mb"},
};
// --temperature, --score, --norm, --seed (additive score's parameters).
attn::AttentionOptions attention_options(const Args& args);
// --colormap, --opacity (validated), --upsample, --scale, --no-grid: those
// of them a command accepts; the others keep OverlayStyle's defaults.
attn::OverlayStyle overlay_style(const Args& args);
// --width and --dpi: the size a figure is written at (app::figure_size).
app::FigureSize figure_size(const Args& args);
// Refuses (attn::Error) a job whose logits and weights, H × Nq × Nk floats
// each, would exceed --max-matrix-mb (default 1024 MiB).
void check_matrix_budget(const Args& args, long long heads, long long nq, long long nk);

}  // namespace cli
