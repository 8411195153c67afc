#include "frame_stats.hpp"

#include <algorithm>

namespace gui {

void FrameStats::frame_done(double ms) { ring_[static_cast<size_t>(count_++ % kKept)] = static_cast<float>(ms); }

std::vector<float> FrameStats::recent() const {
  std::vector<float> out;
  const int n = std::min(count_, kKept);
  for (int i = count_ - n; i < count_; ++i) out.push_back(ring_[static_cast<size_t>(i % kKept)]);
  return out;
}

void FrameStats::note_settings(const Settings& s, std::uint64_t map_revision, double t) {
  HeatmapInputs in{s.tokens, s.model, s.attention, s.view, s.selection};
  if (inputs_ && *inputs_ == in) return;
  const bool first = !inputs_;
  inputs_ = std::move(in);
  if (first || pending_) return;  // a drag keeps the clock of its first step running
  pending_ = true;
  change_t_ = t;
  revision_at_change_ = map_revision;
  frames_ = 0;
}

void FrameStats::note_drawn(std::uint64_t map_revision, bool idle, double t) {
  if (!pending_) return;
  ++frames_;
  if (!idle) return;
  if (map_revision != revision_at_change_) {
    last_latency_ms = (t - change_t_) * 1000.0;
    last_latency_frames = frames_;
    latencies_ms.push_back(*last_latency_ms);
    latency_frames.push_back(frames_);
    pending_ = false;
  } else if (frames_ >= 3) {
    pending_ = false;  // the change did not alter the map (or was refused)
  }
}

double FrameStats::median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double FrameStats::p99(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[(v.size() * 99 + 99) / 100 - 1];  // nearest rank: the ceil(0.99 n)-th smallest
}

}  // namespace gui
