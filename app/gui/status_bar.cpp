// The status line: what is computing, the last message, or what is shown.
#include "panels.hpp"

namespace gui {

void draw_status(AppState& state, UiContext& ui, const Layout& l) {
  begin_panel(ui, "Status", l.status_pos, l.status_size,
              ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoSavedSettings);
  const std::string busy = state.busy_label();
  if (!busy.empty()) {
    static constexpr char kSpinner[] = "|/-\\";
    ImGui::Text("%c %s...", kSpinner[static_cast<int>(state.now * 8) % 4], busy.c_str());
    ImGui::SameLine();
  }
  const Message* m = state.messages.empty() ? nullptr : &state.messages.back();
  if (m && state.now - m->time < kMessageSeconds) {
    if (m->error)
      ImGui::TextColored(ImVec4(1.0f, 0.35f, 0.3f, 1.0f), "Error: %s", m->text.c_str());
    else
      ImGui::TextUnformatted(m->text.c_str());
  } else if (busy.empty() && state.scene.ready()) {
    const auto& g = state.scene.grid;
    ImGui::Text("%d tokens (%d x %d), %d heads. Click a patch to pick the query; F1 for help.", state.tokens(), g.cols,
                g.rows, state.scene.heads);
  }
  ImGui::End();
}

}  // namespace gui
