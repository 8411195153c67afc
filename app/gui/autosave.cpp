#include "autosave.hpp"

#include <unistd.h>
#include <csignal>

#include <filesystem>

#include "core/error.hpp"
#include "core/io.hpp"

namespace gui {
namespace fs = std::filesystem;
namespace {

// The process that wrote autosave-PID.json, or 0 for an older version's
// autosave.json (whose writer cannot be known: treated as gone).
long writer_of(const std::string& name) {
  constexpr std::string_view prefix = "autosave-", suffix = ".json";
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0) return 0;
  try {
    return std::stol(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
  } catch (const std::exception&) {
    return 0;
  }
}

bool running(long pid) { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0; }

}  // namespace

Autosave::Autosave(bool enabled)
    : enabled_(enabled), path_(config_dir() + "/autosave-" + std::to_string(::getpid()) + ".json") {}

std::optional<Settings> Autosave::left_over(const Settings& base, AppState& state) const {
  if (!enabled_) return std::nullopt;
  std::error_code ec;
  fs::path newest;
  fs::file_time_type newest_time{};
  for (const auto& e : fs::directory_iterator(config_dir(), ec)) {
    const std::string name = e.path().filename().string();
    if (name != "autosave.json" && writer_of(name) == 0) continue;
    if (running(writer_of(name))) continue;  // another window, still open
    std::error_code ec2;
    const auto t = fs::last_write_time(e.path(), ec2);
    if (newest.empty() || t > newest_time) newest = e.path(), newest_time = t;
  }
  if (newest.empty()) return std::nullopt;
  std::optional<Settings> out;
  try {
    out = load_settings(newest.string(), base);
  } catch (const attn::Error& e) {
    state.post(std::string(e.what()) + " (the autosaved session is not usable)", true);
  }
  fs::remove(newest, ec);  // offered once: restored or not, it is not offered again
  return out;
}

double Autosave::tick(const Settings& s, double now, AppState& state) {
  if (!enabled_ || now < retry_after_) return -1.0;
  const std::string json = to_json(s);
  if (json == saved_json_) return -1.0;
  if (now - last_ < 1.0) return 1.0 - (now - last_);
  last_ = now;
  try {
    fs::create_directories(config_dir());
    attn::write_file_atomic(path_, std::span(reinterpret_cast<const std::uint8_t*>(json.data()), json.size()));
    saved_json_ = json;
  } catch (const std::exception& e) {
    state.post(std::string("cannot autosave: ") + e.what(), true);
    retry_after_ = now + 60.0;  // do not repeat the message every second
  }
  return -1.0;
}

void Autosave::clean_exit() const {
  if (!enabled_) return;
  std::error_code ec;
  fs::remove(path_, ec);
}

}  // namespace gui
