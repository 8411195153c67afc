// The panel below the heads: the step-by-step computation (a ViT: its
// per-head statistics) and the attention matrix, as tabs.
#include "panels.hpp"

namespace gui {

void draw_details(AppState& state, UiContext& ui, const Layout& l) {
  begin_panel(ui, "Details", l.details_pos, l.details_size);
  if (state.scene.ready() && ImGui::BeginTabBar("details")) {
    // The matrix is computed only while its tab is shown; the choice persists.
    WindowSettings& s = state.settings.window;
    const ImGuiTabItemFlags first = ui.restore_tab ? ImGuiTabItemFlags_SetSelected : 0;
    const bool want_matrix = s.show_matrix;
    const char* first_tab = state.scene.vit ? "Head statistics" : state.scene.words ? "The word" : "Step by step";
    if (ImGui::BeginTabItem(first_tab, nullptr, want_matrix ? 0 : first)) {
      s.show_matrix = false;
      if (state.scene.vit)
        draw_model_statistics(state);
      else if (state.scene.words)
        draw_word_details(state, ui.hovered);
      else
        draw_steps(state);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Attention matrix", nullptr, want_matrix ? first : 0)) {
      s.show_matrix = true;
      draw_matrix(state, ui);
      ImGui::EndTabItem();
    }
    ui.restore_tab = false;
    ImGui::EndTabBar();
  }
  ImGui::End();
}

}  // namespace gui
