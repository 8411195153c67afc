#pragma once
// Frame times and the delay from a change to the heatmap that shows it:
// the F3 readout and --bench-frames both read these.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "settings.hpp"

namespace gui {

class FrameStats {
 public:
  static constexpr int kKept = 120;  // frames the readout plots

  // A frame's work, from after its events until its picture was handed over.
  void frame_done(double ms);
  // Starts the clock (unless it runs) when what the heatmap depends on (the
  // tokens, model, attention, view and selection groups) differs from the
  // last call's; `t` in seconds.
  void note_settings(const Settings& s, std::uint64_t map_revision, double t);
  // After each frame is drawn: the clock stops at the first frame whose map
  // is newer than the change with nothing left computing (or, if the map
  // never changes, after three idle frames without recording anything).
  void note_drawn(std::uint64_t map_revision, bool idle, double t);

  // The last kKept frame times, oldest first.
  std::vector<float> recent() const;
  // Median and 99th percentile (nearest rank: the ceil(0.99 n)-th smallest;
  // of 100 frames the second slowest) of `v` (0 when empty).
  static double median(std::vector<double> v);
  static double p99(std::vector<double> v);

  std::optional<double> last_latency_ms;  // the latest change -> heatmap delay
  int last_latency_frames = 0;            // frames it spanned (1: the next picture)
  std::vector<double> latencies_ms;       // every one so far (for --bench-frames)
  std::vector<int> latency_frames;

 private:
  std::array<float, kKept> ring_{};
  int count_ = 0;
  struct HeatmapInputs {
    TokenSettings tokens;
    ModelSettings model;
    AttentionSettings attention;
    ViewSettings view;
    SelectionSettings selection;
    bool operator==(const HeatmapInputs&) const = default;
  };
  std::optional<HeatmapInputs> inputs_;
  std::uint64_t revision_at_change_ = 0;
  double change_t_ = -1;
  int frames_ = 0;  // drawn since the change
  bool pending_ = false;
};

}  // namespace gui
