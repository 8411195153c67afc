#include "autosave.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "core/io.hpp"

namespace gui {

Autosave::Autosave(bool enabled) : enabled_(enabled), path_(config_dir() + "/autosave.json") {}

std::optional<Settings> Autosave::left_over(const Settings& base, AppState& state) const {
  if (!enabled_ || !std::filesystem::exists(path_)) return std::nullopt;
  try {
    return load_settings(path_, base);
  } catch (const attn::Error& e) {
    state.post(std::string(e.what()) + " (the autosaved session is not usable)", true);
    return std::nullopt;
  }
}

double Autosave::tick(const Settings& s, double now, AppState& state) {
  if (!enabled_ || now < retry_after_) return -1.0;
  const std::string json = to_json(s);
  if (json == saved_json_) return -1.0;
  if (now - last_ < 1.0) return 1.0 - (now - last_);
  last_ = now;
  try {
    std::filesystem::create_directories(config_dir());
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
  std::filesystem::remove(path_, ec);
}

}  // namespace gui
