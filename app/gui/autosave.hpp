#pragma once
// Autosave: a run that ends without a clean exit (a crash, a kill) leaves
// autosave-PID.json behind, written at most once a second while the settings
// change; the next run offers it back, and a clean exit removes it. Each
// running window writes its own file, so a second window never offers to
// restore the first one's session while the first is still open.
#include <optional>
#include <string>

#include "app_state.hpp"

namespace gui {

class Autosave {
 public:
  explicit Autosave(bool enabled);
  // What an unclean exit left (the newest file of a process that is no
  // longer running), read on top of `base`; the file is then consumed. A
  // bad file is reported on `state` and ignored.
  std::optional<Settings> left_over(const Settings& base, AppState& state) const;
  // Saves `s` if it changed and a second has passed since the last save.
  // Returns the seconds until it next needs to run (for the event loop's
  // timeout), or a negative number when nothing is pending.
  double tick(const Settings& s, double now, AppState& state);
  // A clean exit: nothing to restore next time.
  void clean_exit() const;

 private:
  bool enabled_;
  std::string path_, saved_json_;
  double last_ = -1e9, retry_after_ = 0.0;
};

}  // namespace gui
