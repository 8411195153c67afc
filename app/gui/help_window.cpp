// F1: a short history of attention, and every shortcut (from the one table).
#include <algorithm>
#include <cstring>

#include "panels.hpp"
#include "shortcuts.hpp"

namespace gui {

void draw_help(UiContext& ui) {
  if (!ui.show_help) return;
  const ImVec2 d = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowSize(ImVec2(std::min(d.x * 0.8f, ImGui::GetFontSize() * 48), d.y * 0.8f), ImGuiCond_Appearing);
  ImGui::SetNextWindowPos(ImVec2(d.x * 0.5f, d.y * 0.5f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (ImGui::Begin("About attention", &ui.show_help)) {
    record_window(ui, "About attention");
    ImGui::TextWrapped(
        "Attention lets each token (here: each image patch) gather information from the others. Every token has a "
        "query q, a key k and a value v. A query scores every key, the scores become weights that sum to 1, and the "
        "output is the weighted sum of the values:");
    ImGui::BulletText("weights = softmax(score(q, K) / T),   output = weights . V");
    ImGui::TextWrapped(
        "Additive attention was introduced for machine translation by Bahdanau, Cho and Bengio (2014), \"Neural "
        "Machine Translation by Jointly Learning to Align and Translate\": score = v^T tanh(W_q q + W_k k).");
    ImGui::TextWrapped(
        "The Transformer of Vaswani et al. (2017), \"Attention Is All You Need\", uses the scaled dot product "
        "q . k / sqrt(d_k): dividing by sqrt(d_k) keeps the scores' spread independent of the vector width, so the "
        "softmax does not saturate. It runs several heads side by side, each on its own slice of d_model.");
    ImGui::TextWrapped(
        "The temperature T divides the scores: T -> 0 puts all weight on the best key, large T spreads it evenly. "
        "Sparsemax (Martins and Astudillo 2016) gives exact zeros. The raw product without softmax shows why "
        "normalisation matters: weights can be negative and do not sum to 1.");
    ImGui::Separator();
    ImGui::TextUnformatted("Mouse and keyboard");
    // The right column wraps: at any window width and UI scale nothing is cut.
    if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_Borders)) {
      ImGui::TableSetupColumn("keys", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 11.0f);
      ImGui::TableSetupColumn("what", ImGuiTableColumnFlags_WidthStretch);
      auto row = [](const char* keys, const char* what) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextWrapped("%s", keys);
        ImGui::TableNextColumn();
        ImGui::TextWrapped("%s", what);
      };
      for (const MouseGesture& g : mouse_gestures()) row(g.gesture, g.what);
      const Shortcut* last = nullptr;
      for (const Shortcut& s : shortcuts()) {
        if (last && !std::strcmp(last->keys, s.keys) && !std::strcmp(last->what, s.what)) continue;
        row(s.keys, s.what);
        last = &s;
      }
      ImGui::EndTable();
    }
  }
  ImGui::End();
}

}  // namespace gui
