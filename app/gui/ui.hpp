#pragma once
// What the panels share besides AppState: the renderer and its render
// targets, the view state of the image and matrix views, the file dialog,
// and requests from panels to the main loop. Knows ImGui, not GLFW.
#include <imgui.h>

#include <array>
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
  ExportSheet,
  OpenWords,
  ExportWordsGrid,
  ExportWordOverlays,
  ExportComparison,
  ChooseCompareB  // compare mode: B's image or B's model
};

struct FileDialog {
  bool open = false;
  FileAction action = FileAction::Open;
  std::string directory;
  char name[512] = {};
  std::vector<std::pair<std::string, bool>> entries;  // name, is directory
  std::string listed;                                 // the directory `entries` describes
  void show(FileAction a) { open = true, action = a; }
};

struct UiContext {
  Renderer renderer;
  RenderTarget overlay;              // the image view's visible region
  std::vector<RenderTarget> thumbs;  // one per head, then the heads combined
  RenderTarget matrix;
  std::array<RenderTarget, 3> compare_targets;  // compare mode: A, B, A - B

  // Image view: zoom 1 = fit the panel; pan in image pixels.
  float zoom = 1.0f;
  ImVec2 pan{0, 0};
  bool painting = false;
  bool paint_hide = true;
  int hovered = -1;                              // cell under the mouse, -1 none
  std::vector<std::array<float, 4>> word_rects;  // imported words: each word's button (x0, y0, x1, y1)
  ImVec2 image_min{0, 0}, image_max{0, 0};       // screen rect of the drawn image

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
  std::array<std::string, 3> compare_keys;
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

}  // namespace gui
