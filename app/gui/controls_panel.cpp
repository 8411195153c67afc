// The controls panel: every setting, each with a one-sentence tooltip.
#include <algorithm>
#include <cmath>
#include <string>

#include "panels.hpp"

namespace gui {
namespace {

template <typename E>
bool labelled_combo(const char* text, E& value, const char* help) {
  label(text);
  return enum_combo((std::string("##") + text).c_str(), value, help);
}

// The widths heads can split: divisors of `width`, at most 64 of them.
std::vector<int> divisors(int width) {
  std::vector<int> out;
  for (int h = 1; h <= width && out.size() < 64; ++h)
    if (width % h == 0) out.push_back(h);
  return out;
}

// The colour bar of the style the image is drawn with, and what its ends mean.
void legend(const attn::OverlayStyle& s, const char* lo, const char* hi) {
  const float w = ImGui::GetContentRegionAvail().x, h = ImGui::GetTextLineHeight();
  colour_ramp(ImGui::GetWindowDrawList(), s.colormap, ImGui::GetCursorScreenPos(), w, h);
  ImGui::Dummy(ImVec2(w, h));
  ImGui::TextUnformatted(lo);
  ImGui::SameLine(std::max(0.0f, w - ImGui::CalcTextSize(hi).x));
  ImGui::TextUnformatted(hi);
}

void draw_token_controls(AppState& state, UiContext& ui) {
  TokenSettings& t = state.settings.tokens;
  const bool image_source = is_image_source(t.source);
  auto fresh_selection = [&] {
    state.settings.selection.queries.clear(), state.settings.attention.hidden_keys.clear();
  };
  if (image_source) {
    label("patch size");
    if (ImGui::SliderInt("##patch size", &t.patch, 4, 64, "%d px")) fresh_selection();
    tooltip("Side of each square patch in pixels: smaller patches mean more tokens (N grows with 1/patch^2).");
  } else if (t.source == Source::RandomTokens) {
    label("tokens per side");
    if (ImGui::SliderInt("##tokens per side", &t.token_side, 2, 128)) fresh_selection();
    tooltip("The random tokens are laid out on a square grid of this many per side.");
  } else {
    ImGui::TextWrapped("Q: %s", t.q_path.c_str());
    ImGui::TextWrapped("K: %s", t.k_path.c_str());
    ImGui::TextWrapped("V: %s", t.v_path.empty() ? "(none)" : t.v_path.c_str());
    if (ImGui::Button("Load Q, K, V files...")) ui.dialog.show(FileAction::OpenTensors);
    tooltip("Pick .npy or CSV files: the first is Q, the second K, the third V.");
  }
  if (state.scene.ready()) {
    const auto& g = state.scene.grid;
    ImGui::Text("N = %d tokens (%d x %d)", state.tokens(), g.cols, g.rows);
  }

  const bool fixed_width = t.source == Source::Pixels || t.source == Source::Files;
  if (!fixed_width) {
    label("d_model");
    if (ImGui::SliderInt("##d_model", &t.d_model, 4, 512)) {
      t.d_model = std::max(4, t.d_model / 4 * 4);
      if (t.d_model % t.heads) t.heads = 1;
    }
    tooltip("Width of every query, key and value vector before it is split into heads.");
  }
  const int width = t.source == Source::Pixels                           ? 3 * t.patch * t.patch
                    : (t.source == Source::Files && state.scene.ready()) ? state.scene.width
                                                                         : t.d_model;
  const auto options = divisors(width);
  if (std::find(options.begin(), options.end(), t.heads) == options.end()) t.heads = 1;
  label("heads");
  if (ImGui::BeginCombo("##heads", std::to_string(t.heads).c_str())) {
    for (int h : options)
      if (ImGui::Selectable(std::to_string(h).c_str(), h == t.heads)) t.heads = h, state.settings.view.head = -1;
    ImGui::EndCombo();
  }
  tooltip("Number of attention heads; only counts that divide d_model are offered, each head gets d_model / heads.");
  ImGui::Text("d_k = %d / %d = %d per head", width, t.heads, width / std::max(1, t.heads));
  if (t.source != Source::Pixels && t.source != Source::Files) {
    int seed = static_cast<int>(t.seed);
    label("seed");
    if (ImGui::InputInt("##seed", &seed)) t.seed = static_cast<std::uint64_t>(std::max(0, seed));
    tooltip("Seed of every random projection and random token: the same seed gives the same picture anywhere.");
  }
  if (image_source) {
    ImGui::Checkbox("position encoding", &t.position_encoding);
    tooltip("Append a 2-D sinusoidal position encoding, so nearby patches also look alike.");
  }
}

void draw_attention_controls(AppState& state) {
  AttentionSettings& a = state.settings.attention;
  float t = static_cast<float>(a.temperature);
  label("temperature T (log scale)");
  if (ImGui::SliderFloat("##temperature", &t, 0.01f, 100.0f, "%.3g", ImGuiSliderFlags_Logarithmic))
    a.temperature = std::clamp(static_cast<double>(t), 0.01, 100.0);
  tooltip(
      "Divides every score before the softmax: small T sharpens attention towards one key, large T spreads it evenly.");
  labelled_combo("score", a.score,
                 "How a query scores a key: the Transformer's scaled dot product, plain dot, cosine, additive, or the "
                 "raw product as weights.");
  ImGui::BeginDisabled(a.score == attn::Score::Raw);
  labelled_combo("normalise", a.norm, "How scores become weights: softmax, sparsemax (exact zeros), or none.");
  ImGui::EndDisabled();
  labelled_combo("mask", a.mask,
                 "Which keys each query may see: all, only earlier tokens in reading order, or a window around it.");
  if (a.mask == attn::MaskStructure::Local) {
    label("radius");
    ImGui::SliderInt("##radius", &a.radius, 0, 16, "%d patches");
    tooltip("The local window: keys at most this many patches away in each direction.");
  }
  ImGui::Text("painted mask: %zu keys hidden", a.hidden_keys.size());
  tooltip("Right-drag over the image to hide keys from every query; Ctrl+right-drag shows them again.");
  if (!a.hidden_keys.empty()) {
    ImGui::SameLine();
    if (ImGui::SmallButton("clear")) a.hidden_keys.clear();
  }
}

}  // namespace

void draw_display_controls(AppState& state) {
  DisplaySettings& d = state.settings.display;
  int& head = state.settings.view.head;
  const int heads = state.scene.ready() ? state.scene.heads : state.settings.tokens.heads;
  const bool vit = state.settings.tokens.source == Source::Vit;
  const std::string head_name =
      head < 0 ? (vit ? "all heads combined" : "mean of heads") : "head " + std::to_string(head);
  label("show in the image");
  if (ImGui::BeginCombo("##show", head_name.c_str())) {
    if (ImGui::Selectable(vit ? "all heads combined" : "mean of heads", head < 0)) head = -1;
    for (int h = 0; h < heads; ++h)
      if (ImGui::Selectable(("head " + std::to_string(h)).c_str(), head == h)) head = h;
    ImGui::EndCombo();
  }
  tooltip("Which head's attention the image shows, or all heads together.");
  labelled_combo("colormap", d.colormap, "The colours for weights: low on the left of the bar, high on the right.");
  const bool words = state.scene.words != nullptr;
  if (words) {
    const bool signed_values = state.scene.words && state.scene.words->negative;
    const bool shared = state.settings.view.word_scale == attn::WordScale::Shared;
    legend(state.overlay_style(), signed_values ? "-max" : "0",
           signed_values ? "+max"
           : shared      ? "max over all words"
                         : "the word's max");
  } else {
    const bool norms = vit && state.settings.view.query == attn::ViewQuery::TokenNorms;
    const attn::OverlayStyle style = state.overlay_style();
    legend(style,
           norms                                   ? "shortest"
           : style.scale == attn::MapScale::MinMax ? "min"
                                                   : "0",
           norms                                  ? "longest"
           : style.scale == attn::MapScale::Fixed ? "1"
           : style.scale_includes_outlined        ? "max"
                                                  : "max outside the query");
  }
  label("opacity");
  ImGui::SliderFloat("##opacity", &d.opacity, 0.0f, 1.0f, "%.2f");
  tooltip("How strongly the heatmap covers the image where attention is highest.");
  if (words) {  // smoothing and scale are the words' own (above)
    ImGui::Checkbox("patch grid", &d.grid);
    tooltip("Draw thin lines between patches.");
    return;
  }
  labelled_combo("upsampling", d.upsample,
                 "Draw each patch as one flat block, or blend smoothly between patch centres.");
  labelled_combo(
      "scale", d.scale,
      "Map weights to colours relative to the strongest patch, to the range, or as absolute weights in 0-1.");
  ImGui::Checkbox("query patch in the scale", &d.scale_includes_query);
  tooltip(
      "Off (the default): the colours span the other patches, and the query patch, whose weight on itself is often "
      "several times any other, is shown at the top colour. On: the query's own weight sets the top of the scale.");
  ImGui::Checkbox("patch grid", &d.grid);
  tooltip("Draw thin lines between patches.");
}

void draw_controls(AppState& state, UiContext& ui, const Layout& l) {
  Settings& s = state.settings;
  begin_panel(ui, "Controls", l.controls_pos, l.controls_size);

  section("Tokens");
  Source source = s.tokens.source;
  label("Q/K/V source");
  if (enum_combo("##Q/K/V source", source,
                 "Where queries, keys and values come from: an image's patches (three ways), random numbers, your "
                 "files, or a Vision Transformer.")) {
    if (source == Source::Files && s.tokens.q_path.empty()) {
      ui.dialog.show(FileAction::OpenTensors);
    } else if (source == Source::Vit && s.model.weights.empty()) {
      ui.dialog.show(FileAction::Open);
    } else if (source == Source::Words && (s.tokens.words_attn.empty() || s.tokens.words_tokens.empty())) {
      ui.dialog.show(FileAction::OpenWords);
    } else {
      s.tokens.source = source;
      s.selection.queries.clear();
      s.attention.hidden_keys.clear();
    }
  }
  if (s.tokens.source == Source::Vit) {
    draw_vit_controls(state, ui);
  } else if (s.tokens.source == Source::Words || s.tokens.source == Source::Captioner) {
    draw_words_controls(state, ui);
  } else {
    draw_token_controls(state, ui);
    section("Attention");
    draw_attention_controls(state);
  }
  section("Display");
  draw_display_controls(state);
  section("Compare");
  draw_compare_controls(state, ui);
  ImGui::End();
}

}  // namespace gui
