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

namespace {

// The captioner's cross-attention for one word, step by step: the word's
// query against every patch's key, scaled, then the softmax; with live
// numbers for the strongest patches and the hovered one.
void draw_cross_steps(const WordsRun& run, int word, int layer, int head, int hovered) {
  const attn::Matrix& q = run.cross_q[static_cast<size_t>(layer)];
  const attn::Matrix& k = run.cross_k[static_cast<size_t>(layer)];
  const int heads = run.record.find(attn::AttentionRole::Cross)->weights.heads();
  const Eigen::Index dh = q.cols() / heads;
  const int n = static_cast<int>(k.rows());
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  std::vector<double> scores(static_cast<size_t>(n)), weights(static_cast<size_t>(n));
  double top = -1e300, sum = 0;
  for (int j = 0; j < n; ++j) {
    const double sc =
        static_cast<double>(q.row(word).segment(head * dh, dh).dot(k.row(j).segment(head * dh, dh))) * scale;
    scores[static_cast<size_t>(j)] = sc;
    top = std::max(top, sc);
  }
  for (int j = 0; j < n; ++j) sum += weights[static_cast<size_t>(j)] = std::exp(scores[static_cast<size_t>(j)] - top);
  for (double& w : weights) w /= sum;
  const std::string& w = run.words[static_cast<size_t>(word)];
  ImGui::Spacing();
  ImGui::TextWrapped("How \"%s\" looked (decoder layer %d, head %d of %d):", w.c_str(), layer, head, heads);
  ImGui::TextWrapped(
      "1. Its query q: the decoder's state at this step (input: %s), normalised and projected: %d numbers, %s",
      word == 0 ? "<bos>" : ("\"" + run.words[static_cast<size_t>(word - 1)] + "\"").c_str(), static_cast<int>(dh),
      [&] {
        std::string t = "(";
        for (Eigen::Index i = 0; i < std::min<Eigen::Index>(dh, 4); ++i) {
          char b[32];
          std::snprintf(b, sizeof b, "%s%.3f", i ? ", " : "", q(word, head * dh + i));
          t += b;
        }
        return t + (dh > 4 ? ", ...)" : ")");
      }()
          .c_str());
  ImGui::TextWrapped("2. Each patch j has a key k_j, from the encoder's output. Score s_j = q . k_j / sqrt(%d).",
                     static_cast<int>(dh));
  ImGui::TextWrapped("3. Weights w = softmax(s): they sum to 1 over the %d patches; the map shows them.", n);
  std::vector<int> order(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) order[static_cast<size_t>(j)] = j;
  std::partial_sort(order.begin(), order.begin() + std::min(n, 5), order.end(),
                    [&](int a, int b) { return weights[static_cast<size_t>(a)] > weights[static_cast<size_t>(b)]; });
  if (ImGui::BeginTable("##cross steps", 3, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg)) {
    ImGui::TableSetupColumn("patch (col, row)");
    ImGui::TableSetupColumn("score s_j");
    ImGui::TableSetupColumn("weight w_j");
    ImGui::TableHeadersRow();
    auto row = [&](int j, bool is_hovered) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("(%d, %d)%s", j % run.keys.cols, j / run.keys.cols, is_hovered ? " hovered" : "");
      ImGui::TableNextColumn();
      ImGui::Text("%.4f", scores[static_cast<size_t>(j)]);
      ImGui::TableNextColumn();
      ImGui::Text("%.4f", weights[static_cast<size_t>(j)]);
    };
    for (int i = 0; i < std::min(n, 5); ++i)
      row(order[static_cast<size_t>(i)], order[static_cast<size_t>(i)] == hovered);
    if (hovered >= 0 && hovered < n &&
        std::find(order.begin(), order.begin() + std::min(n, 5), hovered) == order.begin() + std::min(n, 5))
      row(hovered, true);
    ImGui::EndTable();
  }
  ImGui::TextDisabled("The strongest five patches%s.", hovered >= 0 ? " and the hovered one" : "; hover a patch");
}

}  // namespace

void draw_word_details(AppState& state, int hovered) {
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
  if (!run.cross_q.empty() && words.size() == 1 && !v.mean_of_layers) {
    draw_cross_steps(run, words.front(), layer, std::max(0, v.head), hovered);
    if (v.head < 0 && run.record.find(attn::AttentionRole::Cross)->weights.heads() > 1)
      ImGui::TextDisabled("(head 0 shown: pick a head under Display to see another)");
    return;
  }
  ImGui::Spacing();
  ImGui::TextDisabled(run.cross_q.empty() ? "A file holds weights only: the model's queries and keys are not in it, so "
                                            "there is no step-by-step computation to show. The matrix tab shows "
                                            "every word's row."
                                          : "Pick one word and one layer to see its computation step by step.");
}

namespace {

// Source::Words: the file, its words, where the image's keys sit.
void draw_word_file_controls(AppState& state, UiContext& ui) {
  TokenSettings& t = state.settings.tokens;
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
}

// Source::Captioner: the training step, new scenes, what the scene holds.
void draw_captioner_controls(AppState& state, UiContext& ui) {
  TokenSettings& t = state.settings.tokens;
  const WordsRun* run = state.scene.words.get();
  if (run) ImGui::TextWrapped("%s", run->description.c_str());
  if (ImGui::Button("New scene")) {
    t.image_path.clear();
    ++t.captioner_scene;
    state.select_words({});
  }
  tooltip("Draw another scene of shapes (the same scenes on every machine: scene numbers are seeds).");
  ImGui::SameLine();
  if (ImGui::Button("Your image...")) ui.dialog.show(FileAction::Open);
  tooltip("Caption a photo or picture of your own (resized to the model's 128 x 128 input).");
  if (t.image_path.empty())
    ImGui::Text("scene %llu", static_cast<unsigned long long>(t.captioner_scene));
  else
    ImGui::TextWrapped("image: %s", t.image_path.c_str());
  if (run && !run->scene_truth.empty()) {
    ImGui::TextWrapped("the scene: %s", run->scene_truth.c_str());
    ImGui::TextColored(run->caption_true ? ImVec4(0.3f, 0.8f, 0.4f, 1) : ImVec4(0.95f, 0.45f, 0.3f, 1), "%s",
                       run->caption_true ? "the caption is true" : "the caption is wrong");
  }
  if (run && !run->captioner_steps.empty()) {
    const std::vector<int>& steps = run->captioner_steps;
    int index = static_cast<int>(steps.size()) - 1;
    for (size_t i = 0; i < steps.size(); ++i)
      if (steps[i] == t.captioner_step) index = static_cast<int>(i);
    label("training step");
    const std::string shown = "step " + std::to_string(steps[static_cast<size_t>(index)]) +
                              (index + 1 == static_cast<int>(steps.size()) ? " (final)" : "");
    if (ImGui::SliderInt("##training step", &index, 0, static_cast<int>(steps.size()) - 1, shown.c_str()))
      t.captioner_step = index + 1 == static_cast<int>(steps.size()) ? -1 : steps[static_cast<size_t>(index)];
    tooltip(
        "The weights as they were at this point of training, from the untrained model (step 0) to the final one: "
        "watch each word's attention gather on the object it names, and the caption change with it.");
  }
}

}  // namespace

void draw_words_controls(AppState& state, UiContext& ui) {
  Settings& s = state.settings;
  ViewSettings& v = s.view;
  if (s.tokens.source == Source::Captioner)
    draw_captioner_controls(state, ui);
  else
    draw_word_file_controls(state, ui);
  const WordsRun* run = state.scene.words.get();
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
