#pragma once
// attnscope's command line: any setting, plus what scripts and tests need
// (screenshots, exports, a state dump, a simulated file drop).
#include <optional>
#include <string>
#include <vector>

#include "settings.hpp"

namespace gui {

struct Options {
  Settings settings;
  bool persist = true;     // read and write the settings file
  std::string screenshot;  // write the window to this PNG after `frames`, then exit 0
  int frames = 5;
  std::string export_overlay;      // write the overlay at image resolution after `frames`, then exit
  std::string export_weights;      // .npy or .csv: the selected queries' weights, [H, 1, N]
  std::string export_sheet;        // PNG: every head and the mean, side by side
  std::string export_words;        // imported words: the words grid (.png, .svg, .pdf)
  std::string export_compare;      // compare mode: A | B | A - B (.png, .svg, .pdf)
  std::string save_session;        // JSON: every setting
  std::string dump_state;          // JSON of the state: once the first scene is shown, and at exit
  std::vector<std::string> drops;  // handled as if dropped on the window at `drop_frame`
  int drop_frame = 3;
  std::optional<std::pair<int, int>> query;  // --query COL,ROW: applied once the grid is known
  std::optional<std::pair<int, int>> hover;  // --hover COL,ROW: scripted runs hover this patch
  int bench_frames = 0;                      // drive a query sweep, then a temperature sweep; print frame times; exit
  bool fullscreen = false;
  bool frame_times = false;  // show the F3 readout from the start
  bool help = false, version = false;
  // Runs that produce files and exit, rather than wait for the user.
  bool scripted() const {
    return !screenshot.empty() || !export_overlay.empty() || !export_weights.empty() || !export_sheet.empty() ||
           !export_words.empty() || !export_compare.empty() || !save_session.empty() || bench_frames > 0;
  }
};

// Settings start from `base` (the persisted ones); files named on the
// command line are opened in turn (an image and weights, say), then flags
// override. Throws app::UsageError (exit 2) or attn::Error (exit 3).
Options parse_options(int argc, char** argv, const Settings& base);
bool wants_no_persist(int argc, char** argv);
extern const char* const kUsage;

}  // namespace gui
