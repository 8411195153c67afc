#pragma once
// What the command line asks of a run besides its settings, for scripts,
// tests and README pictures: files dropped at a frame, a query picked once
// the grid is known, the pointer placed (or kept away), exports and a
// screenshot once the picture is ready, a frame-time benchmark, a state
// dump. The frame loop calls it at fixed points; it decides when a
// scripted run is done and with which exit code.
#include <vector>

#include "options.hpp"
#include "ui.hpp"

struct GLFWwindow;

namespace gui {

class ScriptedRun {
 public:
  explicit ScriptedRun(Options opt) : opt_(std::move(opt)) {}
  const Options& options() const { return opt_; }
  bool scripted() const { return opt_.scripted(); }

  // Before AppState::update: the dropped files, the benchmark's next change.
  void before_update(AppState& state, UiContext& ui, int frame);
  // After AppState::update: --query, once the grid is known (true if it changed the settings).
  bool after_update(AppState& state);
  // Between the platform's new frame and ImGui's: in scripted runs the
  // pointer is where --hover says, else nowhere (no hover state wherever
  // the X pointer happens to rest).
  void place_pointer(const AppState& state, const UiContext& ui) const;
  // After the frame is drawn, before the swap: the state dump, the exports
  // and the screenshot once the picture is ready. Sets ui.quit when done.
  void after_draw(GLFWwindow* window, AppState& state, UiContext& ui, int frame, double now);
  // After the swap: the benchmark's frame time (`ms`, the whole frame).
  void frame_timed(AppState& state, UiContext& ui, double ms, int width, int height);
  // Whether the benchmark is driving this frame.
  bool benching(const AppState& state) const { return opt_.bench_frames > 0 && state.scene.ready() && !state.busy(); }
  // At exit: the final state dump.
  void at_exit(const AppState& state, const UiContext& ui, int frame) const;
  int exit_code() const { return exit_code_; }

 private:
  Options opt_;
  int ready_frames_ = 0, exit_code_ = 0;
  bool dumped_ = false;
  std::vector<double> frame_ms_;  // --bench-frames: each frame's time, GPU work included
};

}  // namespace gui
