#pragma once
// The panels and windows, each a function that draws one window and edits
// state; main.cpp's frame loop lists them. One file each:
//   layout.cpp          where the tiled panels go, and what they share
//   menu_bar.cpp        the menu bar            status_bar.cpp   the status line
//   controls_panel.cpp  every setting           vit_controls.cpp a ViT's settings
//   image_view.cpp      the image and its map   heads_view.cpp   one thumbnail per head
//   compare_view.cpp    A | B | A - B and what B changes
//   details_panel.cpp   the tabs below the heads: step_by_step.cpp, matrix_view.cpp,
//                       model_statistics.cpp
//   help_window.cpp     F1                      shortcuts.cpp    the keys (one table)
//   file_dialog.cpp     open, save, export      restore_prompt.cpp  after a crash
//   frame_times_view.cpp  F3                    exports.cpp      files for papers
#include <imgui.h>

#include "ui.hpp"

namespace gui {

// The rectangles the main loop assigns to the tiled panels this frame.
struct Layout {
  ImVec2 controls_pos, controls_size, image_pos, image_size, heads_pos, heads_size, details_pos, details_size,
      status_pos, status_size;
  bool controls = true;  // whether the controls panel is shown
};
// In presentation mode the controls give way and the side column narrows,
// so the picture takes most of the window at any UI scale.
Layout compute_layout(const WindowSettings& w, ImVec2 display, float menu_height);

void draw_menu(AppState& state, UiContext& ui, float* menu_height);
void draw_controls(AppState& state, UiContext& ui, const Layout& l);
void draw_vit_controls(AppState& state, UiContext& ui);
void draw_words_controls(AppState& state, UiContext& ui);
// The words above the image: click one to show its map, shift-click to
// average several; hovering a patch tints each word by its weight there.
void draw_word_strip(AppState& state, UiContext& ui);
void draw_display_controls(AppState& state);
void draw_image_view(AppState& state, UiContext& ui, const Layout& l);
// Compare mode, inside the image view: A | B | A - B; and its controls.
void draw_compare_view(AppState& state, UiContext& ui);
void draw_compare_controls(AppState& state, UiContext& ui);
// How the heads are fused when none is picked ("mean", or a ViT's fusion).
std::string heads_word(const AppState& state);
void draw_heads(AppState& state, UiContext& ui, const Layout& l);
void draw_details(AppState& state, UiContext& ui, const Layout& l);  // step by step / statistics, matrix
void draw_steps(AppState& state);
void draw_model_statistics(AppState& state);
void draw_word_details(AppState& state, int hovered);  // the selected words: share on the image, spread, peak
void draw_matrix(AppState& state, UiContext& ui);
void draw_status(AppState& state, UiContext& ui, const Layout& l);
void draw_help(UiContext& ui);
void draw_frame_stats(UiContext& ui, const Layout& l);  // F3
void draw_file_dialog(AppState& state, UiContext& ui);
void draw_restore_prompt(AppState& state, UiContext& ui);

// Exports (atomic writes; a failure is posted as a message).
void export_overlay(AppState& state, UiContext& ui, const std::string& path);
void export_weights(AppState& state, const std::string& path, bool csv);
void export_sheet(AppState& state, const std::string& path);
// Compare mode's A | B | A - B as a labelled figure (.png, .svg or .pdf).
void export_comparison(AppState& state, const std::string& path);
// Imported words: the words grid (.png, .svg or .pdf) and one overlay per word (a folder).
void export_words_grid(AppState& state, const std::string& path);
void export_word_overlays(AppState& state, const std::string& directory);

// Begins one of the tiled panels (End() it as usual) at its layout
// rectangle, fixed in place, and records it for --dump-state. The panels
// draw no background: the main loop clears the window to the theme's
// WindowBg, the colour they would draw, and a software OpenGL then blends
// none of those pixels (about 2 ms a frame at 1600 x 1000). The border is
// drawn here, as ImGui would.
void begin_panel(UiContext& ui, const char* name, ImVec2 pos, ImVec2 size, ImGuiWindowFlags extra = 0);

// A click on `item` with the selection `selected`: shift adds it, or
// removes it (never the last one); a plain click selects it alone.
std::vector<int> clicked_selection(std::vector<int> selected, int item, bool shift);

// A colormap as a horizontal ramp, w x h at p (low values on the left).
void colour_ramp(ImDrawList* dl, attn::Colormap map, ImVec2 p, float w, float h);

// One-sentence help for the control just drawn.
void tooltip(const char* text);
// A label above the next widget, which then takes the full width: readable
// at any UI scale.
void label(const char* text);
// A section's title in the controls.
void section(const char* title);
// Records a window's rectangle for --dump-state; call inside Begin/End.
void record_window(UiContext& ui, const char* name);

// A combo over an enum's name table (core/enum_names.hpp): its labels,
// each with its own help when hovered. Returns true when changed.
template <typename E>
bool enum_combo(const char* id, E& value, const char* help) {
  bool changed = false;
  if (ImGui::BeginCombo(id, std::string(attn::entry_of(value).label).c_str())) {
    for (const auto& e : attn::enum_names<E>()) {
      if (ImGui::Selectable(std::string(e.label).c_str(), e.value == value)) value = e.value, changed = true;
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", std::string(e.help).c_str());
    }
    ImGui::EndCombo();
  }
  tooltip(help);
  return changed;
}

}  // namespace gui
