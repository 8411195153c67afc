#include "shortcuts.hpp"

#include <algorithm>
#include <array>
#define GLFW_INCLUDE_NONE  // key codes only: no GL header
#include <GLFW/glfw3.h>

namespace gui {
namespace {

using When = Shortcut::When;

void move_query(AppState& state, int dc, int dr) {
  if (state.scene.words) {  // left and right: the previous or next word
    const int T = static_cast<int>(state.scene.words->words.size());
    const auto words = state.effective_words();
    if (dc != 0 && !words.empty()) state.select_words({std::clamp(words.front() + dc, 0, T - 1)});
    return;
  }
  // Arrows move the first query; the others stay.
  const auto& g = state.scene.grid;
  auto queries = state.effective_queries();
  const int q = queries.front(), c = q % g.cols, r = q / g.cols;
  const int nc = std::clamp(c + dc, 0, g.cols - 1), nr = std::clamp(r + dr, 0, g.rows - 1);
  if (g.index(nc, nr) < state.tokens()) queries.front() = g.index(nc, nr);
  state.select(queries);
}

template <typename E>
E next_of(E value) {
  const auto names = attn::enum_names<E>();
  return names[(static_cast<size_t>(value) + 1) % names.size()].value;
}

void set_ui_scale(AppState& s, UiContext& ui, float delta) {
  s.settings.window.ui_scale = std::clamp(s.settings.window.ui_scale + delta, 1.0f, 3.0f);
  ui.fonts_dirty = true;
}

constexpr std::
    array
        kShortcuts =
            {
                Shortcut{'Q', true, false, "Ctrl+Q", "quit", When::Always,
                         [](AppState&, UiContext& ui) { ui.quit = true; }},
                Shortcut{'O', true, false, "Ctrl+O",
                         "open an image, session, weights or .npy/.csv file (or drop it on the window)", When::Window,
                         [](AppState&, UiContext& ui) { ui.dialog.show(FileAction::Open); }},
                Shortcut{'S', true, false, "Ctrl+S", "export the overlay (PNG)", When::Window,
                         [](AppState&, UiContext& ui) { ui.dialog.show(FileAction::ExportOverlay); }},
                Shortcut{'S', true, true, "Ctrl+Shift+S", "save the session", When::Window,
                         [](AppState&, UiContext& ui) { ui.dialog.show(FileAction::SaveSession); }},
                Shortcut{GLFW_KEY_EQUAL, true, false, "Ctrl+=", "larger interface (for projectors)", When::Window,
                         [](AppState& s, UiContext& ui) { set_ui_scale(s, ui, 0.25f); }},
                Shortcut{GLFW_KEY_MINUS, true, false, "Ctrl+-", "smaller interface", When::Window,
                         [](AppState& s, UiContext& ui) { set_ui_scale(s, ui, -0.25f); }},
                Shortcut{GLFW_KEY_F1, false, false, "F1", "this window", When::Window,
                         [](AppState&, UiContext& ui) { ui.show_help = !ui.show_help; }},
                Shortcut{GLFW_KEY_ESCAPE, false, false, "Esc", "close this window or the file dialog", When::Window,
                         [](AppState&, UiContext& ui) { ui.show_help = false, ui.dialog.open = false; }},
                Shortcut{GLFW_KEY_F11, false, false, "F11", "full screen, presenting (again: back to the window)",
                         When::Window, [](AppState&, UiContext& ui) { ui.toggle_fullscreen = true; }},
                Shortcut{
                    'P', false, false, "P", "presentation: the picture takes most of the screen", When::Window,
                    [](AppState& s, UiContext&) { s.settings.window.presentation = !s.settings.window.presentation; }},
                Shortcut{GLFW_KEY_TAB, false, false, "Tab", "hide or show the controls (more room for the picture)",
                         When::Window,
                         [](AppState& s, UiContext&) {
                           s.settings.window.show_controls = !s.settings.window.show_controls;
                         }},
                Shortcut{GLFW_KEY_F3, false, false, "F3", "frame times and the delay from a change to the heatmap",
                         When::Window, [](AppState&, UiContext& ui) { ui.show_frame_stats = !ui.show_frame_stats; }},
                Shortcut{GLFW_KEY_LEFT, false, false, "arrow keys",
                         "move the query (a ViT then shows the patch's attention; words: the previous or next word)",
                         When::Picture, [](AppState& s, UiContext&) { move_query(s, -1, 0); }},
                Shortcut{GLFW_KEY_RIGHT, false, false, "arrow keys",
                         "move the query (a ViT then shows the patch's attention; words: the previous or next word)",
                         When::Picture, [](AppState& s, UiContext&) { move_query(s, 1, 0); }},
                Shortcut{GLFW_KEY_UP, false, false, "arrow keys",
                         "move the query (a ViT then shows the patch's attention; words: the previous or next word)",
                         When::Picture, [](AppState& s, UiContext&) { move_query(s, 0, -1); }},
                Shortcut{GLFW_KEY_DOWN, false, false, "arrow keys",
                         "move the query (a ViT then shows the patch's attention; words: the previous or next word)",
                         When::Picture, [](AppState& s, UiContext&) { move_query(s, 0, 1); }},
                Shortcut{GLFW_KEY_LEFT_BRACKET, false, false, "[", "temperature down", When::Picture,
                         [](AppState& s, UiContext&) {
                           s.settings.attention.temperature = std::max(0.01, s.settings.attention.temperature / 1.25);
                         }},
                Shortcut{GLFW_KEY_RIGHT_BRACKET, false, false, "]", "temperature up", When::Picture,
                         [](AppState& s, UiContext&) {
                           s.settings.attention.temperature = std::min(100.0, s.settings.attention.temperature * 1.25);
                         }},
                Shortcut{'H', false, false, "H", "next head (then all heads)", When::Picture,
                         [](AppState& s, UiContext&) {
                           int& h = s.settings.view.head;
                           h = h + 1 >= s.scene.heads ? -1 : h + 1;
                         }},
                Shortcut{'C', false, false, "C", "next colormap", When::Picture,
                         [](AppState& s,
                            UiContext&) { s.settings.display.colormap = next_of(s.settings.display.colormap); }},
                Shortcut{'B', false, false, "B", "compare A | B | A - B on / off", When::Picture,
                         [](AppState& s, UiContext&) { s.settings.compare.toggle(s.settings.attention.temperature); }},
                Shortcut{'G', false, false, "G", "patch grid on / off", When::Picture,
                         [](AppState& s, UiContext&) { s.settings.display.grid = !s.settings.display.grid; }},
                Shortcut{'M', false, false, "M", "next mask (none, causal, local)", When::Picture,
                         [](AppState& s, UiContext&) {
                           s.settings.attention.mask = next_of(s.settings.attention.mask);
                         }},
                Shortcut{'F', false, false, "F", "fit the image (reset zoom and pan)", When::Picture,
                         [](AppState&, UiContext& ui) { ui.zoom = 1.0f, ui.pan = ImVec2(0, 0); }},
};

constexpr std::array kGestures = {
    MouseGesture{"click a patch", "make it the query"},
    MouseGesture{"shift + click", "add or remove a query (their attention is averaged)"},
    MouseGesture{"right-drag", "hide keys (the painted mask); Ctrl + right-drag shows them again"},
    MouseGesture{"mouse wheel, middle-drag", "zoom and pan the image or the matrix"},
    MouseGesture{"hover a patch", "its exact weight, rank and coordinates"},
    MouseGesture{"words: click a word above the image",
                 "its map (shift-click averages several); hovering a patch tints every word by its weight there"},
};

}  // namespace

std::span<const Shortcut> shortcuts() { return kShortcuts; }
std::span<const MouseGesture> mouse_gestures() { return kGestures; }

void handle_shortcuts(AppState& state, UiContext& ui) {
  const auto keys = std::exchange(ui.keys, {});
  const bool typing = ImGui::GetIO().WantTextInput || ui.restore_offer;
  for (const auto& [key, mods] : keys) {
    const bool ctrl = (mods & GLFW_MOD_CONTROL) != 0, shift = (mods & GLFW_MOD_SHIFT) != 0;
    for (const Shortcut& s : kShortcuts) {
      if (s.key != key || s.ctrl != ctrl || (s.ctrl && s.shift != shift)) continue;
      if (s.when != When::Always && typing) continue;
      if (s.when == When::Picture && (!state.scene.ready() || ui.dialog.open)) continue;
      s.run(state, ui);
      break;
    }
  }
}

}  // namespace gui
