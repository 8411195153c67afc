// Imported word attention: the strip of words above the image (click one,
// shift-click several, hover a patch to see which words look there) and
// its settings (which layer and heads, smoothing, scale, where the image's
// keys sit).
#include <algorithm>
#include <cmath>

#include "common/words_figure.hpp"
#include "panels.hpp"

namespace gui {
namespace {

ImVec4 colour(const attn::Rgb& c) { return {c.r / 255.0f, c.g / 255.0f, c.b / 255.0f, 1.0f}; }

}  // namespace

void draw_word_strip(AppState& state, UiContext& ui) {
  const WordsRun& run = *state.scene.words;
  const auto selected = state.effective_words();
  // The reverse view: every word tinted by its weight on the hovered patch,
  // on the overlay's colours, the largest word at the top colour.
  const std::vector<float> at = state.words_at(ui.hovered);
  float top = 0.0f;
  for (float v : at) top = std::max(top, std::abs(v));
  const attn::OverlayStyle style = state.overlay_style();
  const auto& table = attn::colormap_table(style.colormap);
  const ImGuiStyle& st = ImGui::GetStyle();
  // The words are the subject: larger than the controls, to be read from the
  // back of a room. Laid out first, so that a long answer's strip takes at
  // most a third of the panel and scrolls.
  constexpr float kScale = 1.3f;
  ImGui::SetWindowFontScale(kScale);
  const float right = ImGui::GetContentRegionAvail().x - st.ScrollbarSize;
  std::vector<std::string> labels;
  std::vector<float> widths;
  int lines = 1;
  for (float x = 0.0f; const auto& word : run.words) {
    std::string text = app::word_label(word);
    if (text.size() > 40) {  // at a UTF-8 character boundary
      size_t cut = 40;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
      text = text.substr(0, cut) + "\u2026";
    }
    const float w = ImGui::CalcTextSize(text.c_str()).x + 2 * st.FramePadding.x;
    if (!labels.empty() && x + st.ItemSpacing.x + w > right) ++lines, x = 0.0f;
    x += (x > 0.0f ? st.ItemSpacing.x : 0.0f) + w;
    labels.push_back(std::move(text));
    widths.push_back(w);
  }
  const float line = ImGui::GetFrameHeightWithSpacing();
  ImGui::SetWindowFontScale(1.0f);
  const float height = std::min(lines * line + st.WindowPadding.y, ImGui::GetContentRegionAvail().y / 3);
  ImGui::BeginChild("##words", ImVec2(0, height), false);
  ImGui::SetWindowFontScale(kScale);
  float x = 0.0f;
  int clicked = -1;
  ui.word_rects.clear();
  for (int t = 0; t < static_cast<int>(run.words.size()); ++t) {
    const std::string& text = labels[static_cast<size_t>(t)];
    const float w = widths[static_cast<size_t>(t)];
    if (t > 0 && x + st.ItemSpacing.x + w <= right) {
      ImGui::SameLine();
      x += st.ItemSpacing.x;
    } else {
      x = 0.0f;
    }
    x += w;
    const bool is_selected = std::find(selected.begin(), selected.end(), t) != selected.end();
    int pushed = 0;
    if (!at.empty() && top > 0) {
      float v = at[static_cast<size_t>(t)] / top;
      if (run.negative) v = 0.5f + 0.5f * v;
      const attn::Rgb c = table[static_cast<size_t>(std::clamp(v, 0.0f, 1.0f) * 255.0f)];
      const bool dark = 0.299f * c.r + 0.587f * c.g + 0.114f * c.b < 140.0f;
      ImGui::PushStyleColor(ImGuiCol_Button, colour(c));
      ImGui::PushStyleColor(ImGuiCol_ButtonHovered, colour(c));
      ImGui::PushStyleColor(ImGuiCol_Text, dark ? ImVec4(1, 1, 1, 1) : ImVec4(0, 0, 0, 1));
      pushed = 3;
    } else if (is_selected) {
      ImGui::PushStyleColor(ImGuiCol_Button, st.Colors[ImGuiCol_ButtonActive]);
      pushed = 1;
    }
    if (ImGui::Button((text + "##word" + std::to_string(t)).c_str())) clicked = t;
    ImGui::PopStyleColor(pushed);
    ui.word_rects.push_back(
        {ImGui::GetItemRectMin().x, ImGui::GetItemRectMin().y, ImGui::GetItemRectMax().x, ImGui::GetItemRectMax().y});
    if (is_selected) {  // a frame that shows in the reverse view's colours too
      const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
      ImGui::GetWindowDrawList()->AddRect(ImVec2(a.x - 2, a.y - 2), ImVec2(b.x + 2, b.y + 2),
                                          ImGui::GetColorU32(ImGuiCol_Text), 3.0f, 0, 2.0f);
    }
    if (ImGui::IsItemHovered()) {
      ImGui::BeginTooltip();
      ImGui::Text("word %d of %zu: \"%s\"", t, run.words.size(), text.c_str());
      if (!at.empty()) ImGui::Text("weight on the hovered patch: %.6g", at[static_cast<size_t>(t)]);
      ImGui::TextDisabled("click: its map; shift-click: add it to the average");
      ImGui::EndTooltip();
    }
  }
  if (clicked >= 0) state.select_words(clicked_selection(selected, clicked, ImGui::GetIO().KeyShift));
  ImGui::EndChild();
  ImGui::Spacing();
}

void draw_word_details(AppState& state) {
  const WordsRun& run = *state.scene.words;
  const ViewSettings& v = state.settings.view;
  const int L = run.layers();
  const int layer = v.layer < 0 || v.layer >= L ? L - 1 : v.layer;
  const auto words = state.effective_words();
  if (state.word_rows.rows() == 0) return;
  const attn::ImageKeys& k = run.keys;
  const attn::WordStatistics st = attn::word_statistics(state.word_rows, k, words);
  std::string shown;
  for (int t : words)
    shown += (shown.empty() ? "\"" : " \"") + app::word_label(run.words[static_cast<size_t>(t)]) + "\"";
  ImGui::TextWrapped("%s %s", words.size() > 1 ? "words (averaged)" : "word", shown.c_str());
  ImGui::TextWrapped("%s, %s", v.mean_of_layers ? "mean of the layers" : ("layer " + std::to_string(layer)).c_str(),
                     v.head >= 0 ? ("head " + std::to_string(v.head)).c_str()
                                 : (std::string(attn::name_of(v.fusion)) + " of the heads").c_str());
  ImGui::Separator();
  ImGui::Text("on the image's %d patches: %.1f%% of the attention", k.count(), 100.0 * st.image_share);
  tooltip(
      "The rest goes to the keys that are not the image: a class token, the prompt, earlier words. Much of it "
      "often lands on a few such tokens (attention sinks).");
  ImGui::Text("spread: about %.1f of %d patches", st.spread, k.count());
  tooltip("exp(entropy) of the map over the image: 1 when one patch takes everything, all of them when uniform.");
  ImGui::Text("strongest patch: (%d, %d), weight %.4g", st.peak_cell % k.cols, st.peak_cell / k.cols, st.peak);
  ImGui::Spacing();
  ImGui::TextDisabled(
      "A file holds weights only: the model's queries and keys are not in it, so there is no "
      "step-by-step computation to show. The matrix tab shows every word's row.");
}

void draw_words_controls(AppState& state, UiContext& ui) {
  Settings& s = state.settings;
  TokenSettings& t = s.tokens;
  ViewSettings& v = s.view;
  ImGui::TextWrapped("attention: %s", t.words_attn.c_str());
  ImGui::TextWrapped("words: %s", t.words_tokens.c_str());
  if (ImGui::Button("Open word attention...")) ui.dialog.show(FileAction::OpenWords);
  tooltip(
      "A captioner's or vision-language model's attention, .npy or .safetensors, [T, N] to [L, H, T, N], with its T "
      "words (a .txt, one per line, or a JSON list), found beside it or picked next.");
  const WordsRun* run = state.scene.words.get();
  if (run) ImGui::TextWrapped("%s", run->description.c_str());
  if (run && run->negative)
    ImGui::TextWrapped("Some values are below zero (not softmax weights): drawn on the diverging map, zero in grey.");

  label("image grid (columns, rows; 0: inferred)");
  int grid[2] = {t.words_cols, t.words_rows};
  if (ImGui::InputInt2("##word grid", grid, ImGuiInputTextFlags_EnterReturnsTrue))
    t.words_cols = std::max(0, grid[0]), t.words_rows = std::max(0, grid[1]);
  tooltip(
      "The patch grid the image's keys cover, row-major; press Enter to apply. 0, 0: the grid closest to the "
      "image's aspect.");
  label("first image key (-1: inferred)");
  int offset = t.words_key_offset;
  if (ImGui::InputInt("##key offset", &offset, 1, 10, ImGuiInputTextFlags_EnterReturnsTrue))
    t.words_key_offset = std::max(-1, offset);
  tooltip("Models often put text or special tokens before the image: the image's keys start here.");

  section("View");
  const int L = run ? run->layers() : 1;
  int layer = v.layer < 0 ? L - 1 : v.layer;
  ImGui::BeginDisabled(v.mean_of_layers);
  label("layer");
  if (ImGui::SliderInt("##word layer", &layer, 0, L - 1)) v.layer = layer == L - 1 ? -1 : layer;
  tooltip("Which layer's cross-attention to show.");
  ImGui::EndDisabled();
  ImGui::Checkbox("mean of the layers", &v.mean_of_layers);
  tooltip("Average every layer's map instead.");
  label("combine heads by");
  enum_combo("##word fusion", v.fusion, "How \"all heads\" combine the heads (the head is chosen under Display).");
  label("smoothing");
  enum_combo("##word smooth", v.word_smooth, "How a word's map is drawn between patch centres.");
  label("colour scale");
  enum_combo("##word scale", v.word_scale, "Each word to its own strongest patch, or one scale for every word.");

  section("Export");
  if (ImGui::Button("Words grid (PNG, SVG, PDF)...")) ui.dialog.show(FileAction::ExportWordsGrid);
  tooltip("The image, then one labelled panel per word, as the view shows them.");
  if (ImGui::Button("One overlay per word (folder)...")) ui.dialog.show(FileAction::ExportWordOverlays);
  tooltip("NN-WORD.png for every word, at the drawn image's size.");
}

}  // namespace gui
