// After a run that did not close cleanly: offer the settings it autosaved.
#define GLFW_INCLUDE_NONE  // key codes only: no GL header
#include <GLFW/glfw3.h>

#include "panels.hpp"

namespace gui {

void draw_restore_prompt(AppState& state, UiContext& ui) {
  if (!ui.restore_offer) return;
  if (!ImGui::IsPopupOpen("Restore the last session?")) ImGui::OpenPopup("Restore the last session?");
  const ImVec2 d = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(d.x * 0.5f, d.y * 0.5f), ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  if (ImGui::BeginPopupModal("Restore the last session?", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    record_window(ui, "Restore prompt");
    ImGui::TextUnformatted("attnscope did not close cleanly last time.");
    ImGui::TextUnformatted("Restore the settings it had (saved every second)?");
    // From the key queue, not ImGui::IsKeyPressed: ImGui 1.86 loses a key
    // pressed and released between two frames (a slow frame, a quick tap).
    bool enter = false, escape = false;
    for (const auto& key : ui.keys) {
      enter |= key.first == GLFW_KEY_ENTER || key.first == GLFW_KEY_KP_ENTER;
      escape |= key.first == GLFW_KEY_ESCAPE;
    }
    if (ImGui::Button("Restore (Enter)") || enter) {
      Settings s = *ui.restore_offer;
      s.window.width = state.settings.window.width;
      s.window.height = state.settings.window.height;
      state.settings = s;
      state.post("restored the last session", false);
      ui.restore_offer.reset();
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Start fresh (Esc)") || escape) {
      ui.restore_offer.reset();
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

}  // namespace gui
