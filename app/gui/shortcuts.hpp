#pragma once
// The keyboard shortcuts, in one table that both the key handler and the
// help window (F1) read, and the mouse gestures the help window lists.
#include <span>

#include "ui.hpp"

namespace gui {

struct Shortcut {
  int key;           // GLFW key code
  bool ctrl, shift;  // modifiers that must be held; without Ctrl, Shift is ignored
  const char* keys;  // as the help window shows it; rows with the same keys and text show once
  const char* what;
  // When it applies: always (even while typing), with any window, or only
  // while a picture is shown and no dialog is open.
  enum class When { Always, Window, Picture } when;
  void (*run)(AppState&, UiContext&);
};
std::span<const Shortcut> shortcuts();

struct MouseGesture {
  const char* gesture;
  const char* what;
};
std::span<const MouseGesture> mouse_gestures();

// Runs the shortcuts of the keys queued since the last frame (ui.keys).
void handle_shortcuts(AppState& state, UiContext& ui);

}  // namespace gui
