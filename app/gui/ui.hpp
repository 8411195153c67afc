#pragma once
// What the panels share besides AppState: the renderer and its render
// targets, the view state of the image and matrix views, the file dialog,
// and requests from panels to the main loop. Each panel is a function that
// draws one window and edits state; main.cpp lists them.
#include <imgui.h>

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "frame_stats.hpp"
#include "renderer.hpp"

namespace gui {

enum class FileAction {
  Open,
  OpenTensors,
  SaveSession,
  ExportOverlay,
  ExportWeightsNpy,
  ExportWeightsCsv,
  ExportSheet
};

struct FileDialog {
  bool open = false;
  FileAction action = FileAction::Open;
  std::string directory;
  char name[512] = {};
  std::vector<std::pair<std::string, bool>> entries;  // name, is directory
  std::string listed;                                 // the directory `entries` describes
};

struct UiContext {
  Renderer renderer;
  RenderTarget overlay;              // full image resolution
  std::vector<RenderTarget> thumbs;  // one per head, then the mean
  RenderTarget matrix;

  // Image view: zoom 1 = fit the panel; pan in image pixels.
  float zoom = 1.0f;
  ImVec2 pan{0, 0};
  bool painting = false;
  bool paint_hide = true;
  int hovered = -1;                         // token under the mouse, -1 none
  ImVec2 image_min{0, 0}, image_max{0, 0};  // screen rect of the drawn image

  float matrix_view[4] = {0, 0, 1, 1};

  FileDialog dialog;
  bool show_help = false;
  bool show_frame_stats = false;  // F3
  FrameStats frame_stats;
  bool quit = false;
  bool toggle_fullscreen = false;
  bool fonts_dirty = false;
  bool restore_tab = true;           // select the persisted tab on the first frame
  std::vector<std::string> dropped;  // paths dropped on the window, handled next frame
  // Keys pressed (or repeated) since the last frame, as (GLFW key, GLFW
  // modifier bits). ImGui 1.86 only keeps "is down" flags, which lose a key
  // pressed and released between two frames; shortcuts read this queue.
  std::vector<std::pair<int, int>> keys;
  std::map<std::string, std::array<float, 4>> window_rects;  // for --dump-state

  // Settings autosaved by a run that did not close cleanly, offered for restoring.
  std::optional<Settings> restore_offer;
  bool restore_offered = false;  // for --dump-state

  // What was last drawn into `overlay` and into each of `thumbs`.
  std::string overlay_key;
  std::vector<std::string> thumb_keys;
  int next_thumb = 0;  // the thumbnail to bring up to date first
  // Set by a panel with work left for the next frame (thumbnails not yet
  // current): the main loop then polls instead of waiting for events, and
  // scripted runs wait for it before taking their pictures.
  bool more_frames = false;
};

// A texture for ImGui::Image: ImGui's OpenGL backend takes the GL name
// itself as the (pointer-typed) texture id.
inline ImTextureID imgui_texture(const Texture& t) {
  return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(t.id()));  // NOLINT(performance-no-int-to-ptr)
}

// Layout: the rectangles the main loop assigns to the panels this frame.
struct Layout {
  ImVec2 controls_pos, controls_size, image_pos, image_size, heads_pos, heads_size, lower_pos, lower_size, status_pos,
      status_size;
};
Layout compute_layout(const Settings& s, ImVec2 display, float menu_height);

void draw_menu(AppState& state, UiContext& ui, float* menu_height);
void draw_controls(AppState& state, UiContext& ui, const Layout& l);
void draw_image_view(AppState& state, UiContext& ui, const Layout& l);
void draw_heads(AppState& state, UiContext& ui, const Layout& l);
void draw_lower(AppState& state, UiContext& ui, const Layout& l);  // step by step and matrix tabs
void draw_status(AppState& state, UiContext& ui, const Layout& l);
void draw_help(AppState& state, UiContext& ui);
// F3: the last 120 frames' times and the latest change-to-heatmap delay.
void draw_frame_stats(UiContext& ui, const Layout& l);
void draw_file_dialog(AppState& state, UiContext& ui);
void draw_restore_prompt(AppState& state, UiContext& ui);
void handle_shortcuts(AppState& state, UiContext& ui);

// Exports (atomic writes; a failure is posted as a message).
void export_overlay(AppState& state, UiContext& ui, const std::string& path);
void export_weights(AppState& state, const std::string& path, bool csv);
void export_sheet(AppState& state, const std::string& path);

// Begins one of the tiled panels (End() it as usual) at its layout
// rectangle, fixed in place, and records it for --dump-state. The panels
// draw no background: the main loop clears the window to the theme's
// WindowBg, the colour they would draw, and a software OpenGL then blends
// none of those pixels (about 2 ms a frame at 1600 x 1000). The border is
// drawn here, as ImGui would.
void begin_panel(UiContext& ui, const char* name, ImVec2 pos, ImVec2 size, ImGuiWindowFlags extra = 0);

// One-sentence help for the control just drawn.
void tooltip(const char* text);
// Records a window's rectangle for --dump-state; call inside Begin/End.
void record_window(UiContext& ui, const char* name);

}  // namespace gui
