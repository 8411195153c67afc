#pragma once
// The CLI's subcommands. Each returns the process exit code; errors are
// thrown (attn::Error: bad input, exit 3; cli::UsageError: exit 2) and
// reported once, in main().
#include <nlohmann/json.hpp>
#include "common/args.hpp"

#include "common/figure.hpp"
#include "core/attention.hpp"
#include "core/overlay.hpp"
#include "core/word_views.hpp"

namespace cli {

using app::Args;
using app::OptionSpec;
using app::parse_pair;
using app::UsageError;

int run_attend(int argc, char** argv);
int run_render(int argc, char** argv);
int run_vit(int argc, char** argv);
int run_words(int argc, char** argv);
int run_caption(int argc, char** argv);
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
// The options words and caption share for their outputs: --out (the words
// grid), --out-dir, --maps-out, --data-out, with --panel, --title,
// --no-labels, --width, --dpi, --smooth, --scale, --colormap, --opacity,
// --grid-lines.
inline const std::vector<OptionSpec> kWordOutputOptionSpecs = {
    {"smooth"}, {"scale"},    {"colormap"}, {"opacity"}, {"grid-lines", false}, {"out"},
    {"panel"},  {"title"},    {"maps-out"}, {"out-dir"}, {"no-labels", false},  {"width"},
    {"dpi"},    {"data-out"},
};
// Usage errors before any work: no output asked for (`more`: one more
// option that counts as an output), an unknown figure format or size.
void check_word_outputs(const Args& args, const char* more = nullptr);
struct WordOutputs {
  const attn::Image& image;        // at its own size (--out-dir's overlays)
  const attn::WordCanvas& canvas;  // the image as the maps are drawn on
  const attn::Matrix& maps;        // [T, cells]: each word's map, raw weights
  const std::vector<std::string>& words;
  std::string view_text;    // e.g. "layer 1 of 2, mean of 1 head"
  std::string title;        // the grid's title; empty: the words joined
  nlohmann::json settings;  // for --data-out's JSON
};
void write_word_outputs(const Args& args, const WordOutputs& w);
// --layer L|mean and --head h|mean|max|min for a record of `layers` x `heads`.
attn::WordRequest word_request(const Args& args, int layers, int heads);
// Refuses (attn::Error) a job whose logits and weights, H × Nq × Nk floats
// each, would exceed --max-matrix-mb (default 1024 MiB).
void check_matrix_budget(const Args& args, long long heads, long long nq, long long nk);

}  // namespace cli
