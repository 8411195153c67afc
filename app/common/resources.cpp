#include "resources.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace app {

std::string resolve_data_dir(const char* env, const std::string& exe, const std::string& source_assets) {
  if (env && *env) return env;
  namespace fs = std::filesystem;
  if (!exe.empty()) {
    // From bin/ to share/attnscope; both relative to the install prefix,
    // so `cmake --install --prefix P` and the .deb (prefix /usr) agree.
    const fs::path installed = (fs::path(exe).parent_path() / ATTNSCOPE_BIN_TO_DATA).lexically_normal();
    std::error_code ec;
    if (fs::is_directory(installed, ec)) return installed.string();
  }
  return source_assets;
}

std::string data_dir() {
  std::error_code ec;
  // The program's own file, symbolic links resolved: a link to it in
  // another directory still finds its data.
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return resolve_data_dir(std::getenv("ATTNSCOPE_DATA_DIR"), ec ? std::string() : exe.string(),
                          ATTNSCOPE_SOURCE_ASSETS);
}

}  // namespace app
