// The controls panel: every setting, each with a one-sentence tooltip.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>

#include "ui.hpp"

namespace gui {
namespace {

// Labels sit above full-width widgets: readable at any UI scale.
void label(const char* text) {
  ImGui::TextUnformatted(text);
  ImGui::SetNextItemWidth(-FLT_MIN);
}

template <typename Enum, size_t N>
bool combo(const char* text, Enum& value, const char* const (&names)[N], const char* help) {
  int i = static_cast<int>(value);
  label(text);
  const bool changed = ImGui::Combo((std::string("##") + text).c_str(), &i, names, static_cast<int>(N));
  tooltip(help);
  if (changed) value = static_cast<Enum>(i);
  return changed;
}

// The widths heads can split: divisors of `width`, at most 64 of them.
std::vector<int> divisors(int width) {
  std::vector<int> out;
  for (int h = 1; h <= width && out.size() < 64; ++h)
    if (width % h == 0) out.push_back(h);
  return out;
}

void legend(const Settings& s) {
  const auto& table = attn::colormap_table(s.colormap);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x, h = ImGui::GetTextLineHeight();
  for (int i = 0; i < 64; ++i) {
    const attn::Rgb c = table[static_cast<size_t>(i * 255 / 63)];
    dl->AddRectFilled(ImVec2(p.x + w * i / 64.0f, p.y), ImVec2(p.x + w * (i + 1) / 64.0f + 1, p.y + h),
                      IM_COL32(c.r, c.g, c.b, 255));
  }
  ImGui::Dummy(ImVec2(w, h));
  const char* lo = s.scale == attn::MapScale::MinMax ? "min" : "0";
  const char* hi = s.scale == attn::MapScale::Fixed ? "1" : "max";
  ImGui::TextUnformatted(lo);
  ImGui::SameLine(std::max(0.0f, w - ImGui::CalcTextSize(hi).x));
  ImGui::TextUnformatted(hi);
}

void section(const char* title) {
  ImGui::Spacing();
  ImGui::TextColored(ImGui::GetStyle().Colors[ImGuiCol_PlotHistogram], "%s", title);
  ImGui::Separator();
}

void draw_display_controls(AppState& state) {
  Settings& s = state.settings;
  const int heads = state.scene.ready() ? state.scene.heads : s.heads;
  const std::string head_name = s.head < 0 ? "mean of heads" : "head " + std::to_string(s.head);
  label("show in the image");
  if (ImGui::BeginCombo("##show", head_name.c_str())) {
    if (ImGui::Selectable(s.source == Source::Vit ? "all heads combined" : "mean of heads", s.head < 0)) s.head = -1;
    for (int h = 0; h < heads; ++h)
      if (ImGui::Selectable(("head " + std::to_string(h)).c_str(), s.head == h)) s.head = h;
    ImGui::EndCombo();
  }
  tooltip("Which head's attention the image shows, or the mean over all heads.");
  static const char* const kMaps[] = {"viridis", "magma", "inferno", "plasma", "cividis", "turbo", "greyscale"};
  combo("colormap", s.colormap, kMaps, "The colours for weights: low on the left of the bar, high on the right.");
  legend(s);
  label("opacity");
  ImGui::SliderFloat("##opacity", &s.opacity, 0.0f, 1.0f, "%.2f");
  tooltip("How strongly the heatmap covers the image where attention is highest.");
  static const char* const kUpsample[] = {"nearest (blocks)", "bilinear (smooth)"};
  combo("upsampling", s.upsample, kUpsample,
        "Draw each patch as one flat block, or blend smoothly between patch centres.");
  static const char* const kScales[] = {"per-map max", "min-max", "fixed 0-1"};
  combo("scale", s.scale, kScales,
        "Map weights to colours relative to the strongest patch, to the range, or as absolute weights in 0-1.");
  ImGui::Checkbox("patch grid", &s.grid);
  tooltip("Draw thin lines between patches.");
}

void draw_vit_controls(AppState& state, UiContext& ui) {
  Settings& s = state.settings;
  ImGui::TextWrapped("weights: %s", s.vit_weights.c_str());
  if (ImGui::Button("Open weights...")) ui.dialog.open = true, ui.dialog.action = FileAction::Open;
  tooltip("A .safetensors file of a timm/DINO, Hugging Face or torchvision ViT; a config.json beside it is read.");
  if (const auto& v = state.scene.vit) {
    const auto& m = *v->model;
    ImGui::TextWrapped("%s layout: width %d, depth %d, %d heads, patch %d%s", m.layout.c_str(), m.width, m.depth,
                       m.heads, m.patch,
                       m.registers ? (", " + std::to_string(m.registers) + " registers").c_str() : "");
    ImGui::Text("N = 1 + %d x %d patches%s", state.scene.grid.cols, state.scene.grid.rows,
                m.registers ? " + registers" : "");
  }
  label("image size (shorter side)");
  static const char* const kSizes[] = {"the model's own", "keep the image's", "224", "336", "448", "518", "672", "896"};
  static const int kSizeValues[] = {0, -1, 224, 336, 448, 518, 672, 896};
  int current = 0;
  for (int i = 0; i < 8; ++i)
    if (kSizeValues[i] == s.vit_size) current = i;
  if (ImGui::Combo("##size", &current, kSizes, 8)) s.vit_size = kSizeValues[current], s.queries.clear();
  tooltip(
      "The image is resized so its shorter side has this many pixels, then cropped to whole patches; larger is "
      "slower.");
  label("heads (0: from config.json or width / 64)");
  ImGui::InputInt("##vit heads", &s.vit_heads);
  s.vit_heads = std::clamp(s.vit_heads, 0, 64);
  tooltip("How many heads the weights were trained with, when no config.json says.");
  float mt = static_cast<float>(s.vit_temperature);
  label("model temperature (every layer)");
  if (ImGui::SliderFloat("##model temperature", &mt, 0.1f, 10.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
    s.vit_temperature = mt;
  tooltip("Divides the logits inside every layer's softmax, so the change propagates through the whole network.");

  section("View");
  static const char* const kViews[] = {"class token", "clicked patch", "rollout (class token)"};
  combo("attention of", s.vit_view, kViews,
        "Whose attention to show: the class token's (DINO style), the clicked patch's, or rollout across all layers.");
  const int L = state.scene.vit ? state.scene.vit->model->depth : 1;
  int layer = s.vit_layer < 0 ? L - 1 : s.vit_layer;
  label("layer");
  if (ImGui::SliderInt("##layer", &layer, 0, L - 1)) s.vit_layer = layer == L - 1 ? -1 : layer;
  tooltip("Which layer's attention to show (rollout uses them all).");
  static const char* const kFusions[] = {"mean", "max", "min"};
  combo("combine heads by", s.vit_fusion, kFusions,
        "How \"all heads\" (and rollout) combine the heads: mean, max or min.");
  if (s.vit_view == VitView::Rollout) {
    float d = static_cast<float>(s.vit_discard);
    label("discard ratio");
    if (ImGui::SliderFloat("##discard", &d, 0.0f, 0.95f, "%.2f")) s.vit_discard = d;
    tooltip(
        "Rollout: drop this fraction of the smallest weights in each layer before multiplying (Abnar & Zuidema 2020).");
  }
  float keep = static_cast<float>(s.vit_threshold * 100.0);
  label("keep % of the attention mass");
  if (ImGui::SliderFloat("##keep", &keep, 1.0f, 100.0f, "%.0f%%")) s.vit_threshold = keep / 100.0;
  tooltip("DINO's mask: show only the patches that together hold this share of the attention (100%: show the map).");
  ImGui::Checkbox("class token in the share", &s.vit_include_cls);
  tooltip("Off: the patches' weights are renormalised to sum to 1. On: raw weights, the class token keeps its share.");
  ImGui::Checkbox("registers in the share", &s.vit_include_registers);
  tooltip("Likewise for register tokens, which often absorb much of the attention.");
  ImGui::Text("class token: %.1f%%  registers: %.1f%%", 100 * state.vit_cls_share, 100 * state.vit_register_share);
  tooltip("How much of the shown row's attention goes to the class token and to the registers.");
  float t = static_cast<float>(s.temperature);
  label("display temperature (this layer only)");
  if (ImGui::SliderFloat("##display temperature", &t, 0.1f, 10.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
    s.temperature = t;
  tooltip("Re-sharpens or flattens the shown weights alone (w^(1/T), renormalised); the network is not rerun.");
}

}  // namespace

void draw_controls(AppState& state, UiContext& ui, const Layout& l) {
  Settings& s = state.settings;
  begin_panel(ui, "Controls", l.controls_pos, l.controls_size);

  section("Tokens");
  static const char* const kSources[] = {"image: similarity",  "image: random projections",
                                         "image: raw pixels",  "random tokens (no image)",
                                         "Q, K, V from files", "Vision Transformer (weights)"};
  Source source = s.source;
  if (combo("Q/K/V source", source, kSources,
            "Where queries, keys and values come from: an image's patches (three ways), random numbers, or your "
            "files.")) {
    if (source == Source::Files && s.q_path.empty()) {
      ui.dialog.open = true;
      ui.dialog.action = FileAction::OpenTensors;
    } else if (source == Source::Vit && s.vit_weights.empty()) {
      ui.dialog.open = true;
      ui.dialog.action = FileAction::Open;
    } else {
      s.source = source;
      s.queries.clear();
      s.hidden_keys.clear();
    }
  }
  if (s.source == Source::Vit) {
    draw_vit_controls(state, ui);
    section("Display");
    draw_display_controls(state);
    ImGui::End();
    return;
  }
  const bool image_source = s.source == Source::Similarity || s.source == Source::Random || s.source == Source::Pixels;
  if (image_source) {
    label("patch size");
    if (ImGui::SliderInt("##patch size", &s.patch, 4, 64, "%d px")) s.queries.clear(), s.hidden_keys.clear();
    tooltip("Side of each square patch in pixels: smaller patches mean more tokens (N grows with 1/patch^2).");
  } else if (s.source == Source::RandomTokens) {
    label("tokens per side");
    if (ImGui::SliderInt("##tokens per side", &s.token_side, 2, 128)) s.queries.clear(), s.hidden_keys.clear();
    tooltip("The random tokens are laid out on a square grid of this many per side.");
  } else {
    ImGui::TextWrapped("Q: %s", s.q_path.c_str());
    ImGui::TextWrapped("K: %s", s.k_path.c_str());
    ImGui::TextWrapped("V: %s", s.v_path.empty() ? "(none)" : s.v_path.c_str());
    if (ImGui::Button("Load Q, K, V files...")) {
      ui.dialog.open = true;
      ui.dialog.action = FileAction::OpenTensors;
    }
    tooltip("Pick .npy or CSV files: the first is Q, the second K, the third V.");
  }
  if (state.scene.ready()) {
    const auto& g = state.scene.grid;
    ImGui::Text("N = %d tokens (%d x %d)", state.tokens(), g.cols, g.rows);
  }

  const bool fixed_width = s.source == Source::Pixels || s.source == Source::Files;
  if (!fixed_width) {
    label("d_model");
    if (ImGui::SliderInt("##d_model", &s.d_model, 4, 512)) {
      s.d_model = std::max(4, s.d_model / 4 * 4);
      if (s.d_model % s.heads) s.heads = 1;
    }
    tooltip("Width of every query, key and value vector before it is split into heads.");
  }
  const int width = s.source == Source::Pixels                           ? 3 * s.patch * s.patch
                    : (s.source == Source::Files && state.scene.ready()) ? state.scene.width
                                                                         : s.d_model;
  const auto options = divisors(width);
  if (std::find(options.begin(), options.end(), s.heads) == options.end()) s.heads = 1;
  label("heads");
  if (ImGui::BeginCombo("##heads", std::to_string(s.heads).c_str())) {
    for (int h : options)
      if (ImGui::Selectable(std::to_string(h).c_str(), h == s.heads)) s.heads = h, s.head = -1;
    ImGui::EndCombo();
  }
  tooltip("Number of attention heads; only counts that divide d_model are offered, each head gets d_model / heads.");
  ImGui::Text("d_k = %d / %d = %d per head", width, s.heads, width / std::max(1, s.heads));
  if (s.source != Source::Pixels && s.source != Source::Files) {
    int seed = static_cast<int>(s.seed);
    label("seed");
    if (ImGui::InputInt("##seed", &seed)) s.seed = static_cast<std::uint64_t>(std::max(0, seed));
    tooltip("Seed of every random projection and random token: the same seed gives the same picture anywhere.");
  }
  if (image_source) {
    ImGui::Checkbox("position encoding", &s.position_encoding);
    tooltip("Append a 2-D sinusoidal position encoding, so nearby patches also look alike.");
  }

  section("Attention");
  float t = static_cast<float>(s.temperature);
  label("temperature T (log scale)");
  if (ImGui::SliderFloat("##temperature", &t, 0.01f, 100.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
    s.temperature = std::clamp(static_cast<double>(t), 0.01, 100.0);
  tooltip(
      "Divides every score before the softmax: small T sharpens attention towards one key, large T spreads it evenly.");
  static const char* const kScores[] = {"scaled dot  q.k / sqrt(d_k)", "dot  q.k", "cosine", "additive (Bahdanau)",
                                        "raw q.k (no softmax)"};
  combo("score", s.score, kScores,
        "How a query scores a key: the Transformer's scaled dot product, plain dot, cosine, additive, or the raw "
        "product as weights.");
  static const char* const kNorms[] = {"softmax", "sparsemax", "none"};
  if (s.score == attn::Score::Raw) ImGui::BeginDisabled();
  combo("normalise", s.norm, kNorms, "How scores become weights: softmax, sparsemax (exact zeros), or none.");
  if (s.score == attn::Score::Raw) ImGui::EndDisabled();
  static const char* const kMasks[] = {"none", "causal", "local window"};
  combo("mask", s.mask, kMasks,
        "Which keys each query may see: all, only earlier tokens in reading order, or a window around it.");
  if (s.mask == attn::MaskStructure::Local) {
    label("radius");
    ImGui::SliderInt("##radius", &s.radius, 0, 16, "%d patches");
    tooltip("The local window: keys at most this many patches away in each direction.");
  }
  ImGui::Text("painted mask: %zu keys hidden", s.hidden_keys.size());
  tooltip("Right-drag over the image to hide keys from every query; Ctrl+right-drag shows them again.");
  if (!s.hidden_keys.empty()) {
    ImGui::SameLine();
    if (ImGui::SmallButton("clear")) s.hidden_keys.clear();
  }

  section("Display");
  draw_display_controls(state);
  ImGui::End();
}

}  // namespace gui
