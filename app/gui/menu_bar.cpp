// The menu bar: files, exports, views and help.
#include "panels.hpp"

namespace gui {

void draw_menu(AppState& state, UiContext& ui, float* menu_height) {
  WindowSettings& w = state.settings.window;
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Open image, session or weights...", "Ctrl+O")) ui.dialog.show(FileAction::Open);
    if (ImGui::MenuItem("Open Q, K, V files...")) ui.dialog.show(FileAction::OpenTensors);
    if (ImGui::MenuItem("Open word attention (captioner, VLM)...")) ui.dialog.show(FileAction::OpenWords);
    if (ImGui::MenuItem("Captioner")) state.open_captioner();
    if (ImGui::BeginMenu("Recent", !w.recent_files.empty())) {
      for (const auto& f : std::vector<std::string>(w.recent_files))
        if (ImGui::MenuItem(f.c_str())) state.open_file(f);
      ImGui::EndMenu();
    }
    if (ImGui::MenuItem("Use the bundled sample")) state.open_file("");
    ImGui::Separator();
    if (ImGui::MenuItem("Save session...", "Ctrl+Shift+S")) ui.dialog.show(FileAction::SaveSession);
    ImGui::Separator();
    if (ImGui::MenuItem("Export overlay (PNG, or SVG/PDF figure)...", "Ctrl+S"))
      ui.dialog.show(FileAction::ExportOverlay);
    if (ImGui::MenuItem("Export weights (.npy)...")) ui.dialog.show(FileAction::ExportWeightsNpy);
    if (ImGui::MenuItem("Export weights (CSV)...")) ui.dialog.show(FileAction::ExportWeightsCsv);
    if (ImGui::MenuItem("Export all heads (PNG, SVG, PDF sheet)...")) ui.dialog.show(FileAction::ExportSheet);
    const bool words = state.scene.words != nullptr;
    if (ImGui::MenuItem("Export words grid (PNG, SVG, PDF)...", nullptr, false, words))
      ui.dialog.show(FileAction::ExportWordsGrid);
    if (ImGui::MenuItem("Export one overlay per word...", nullptr, false, words))
      ui.dialog.show(FileAction::ExportWordOverlays);
    if (ImGui::MenuItem("Export comparison A | B | A - B (PNG, SVG, PDF)...", nullptr, false,
                        state.settings.compare.on))
      ui.dialog.show(FileAction::ExportComparison);
    ImGui::MenuItem("Exports also write their numbers (.npy, .csv, .json)", nullptr, &w.export_data);
    ImGui::Separator();
    if (ImGui::MenuItem("Quit", "Ctrl+Q")) ui.quit = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    ImGui::MenuItem("Controls", "Tab", &w.show_controls, !w.presentation);
    ImGui::MenuItem("Heads", nullptr, &w.show_heads);
    ImGui::MenuItem("Details (steps, matrix)", nullptr, &w.show_steps);
    ImGui::Separator();
    ImGui::MenuItem("Presentation (the picture first)", "P", &w.presentation);
    bool compare = state.settings.compare.on;
    if (ImGui::MenuItem("Compare A | B | A - B", "B", &compare))
      state.settings.compare.toggle(state.settings.attention.temperature);
    if (ImGui::MenuItem("Full screen", "F11")) ui.toggle_fullscreen = true;
    if (ImGui::MenuItem("Frame times", "F3", ui.show_frame_stats)) ui.show_frame_stats = !ui.show_frame_stats;
    if (ImGui::MenuItem("Light theme", nullptr, &w.light_theme)) ui.fonts_dirty = true;
    float scale = w.ui_scale;
    if (ImGui::SliderFloat("UI scale", &scale, 1.0f, 3.0f, "%.2fx")) w.ui_scale = scale;
    if (ImGui::IsItemDeactivatedAfterEdit()) ui.fonts_dirty = true;
    if (ImGui::MenuItem("Reset zoom", "F")) ui.zoom = 1.0f, ui.pan = ImVec2(0, 0);
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Help")) {
    if (ImGui::MenuItem("About attention and shortcuts", "F1")) ui.show_help = true;
    ImGui::EndMenu();
  }
  *menu_height = ImGui::GetWindowSize().y;
  ImGui::EndMainMenuBar();
}

}  // namespace gui
