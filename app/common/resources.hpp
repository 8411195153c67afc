#pragma once
// Where attnscope's run-time data lives (the sample image, bundled models):
// beside an installed program, or in the source tree for runs from the build
// folder.
#include <string>

namespace app {

// The data directory, chosen in this order:
//  1. $ATTNSCOPE_DATA_DIR, when set and not empty (used as given);
//  2. <directory of the running program>/../share/attnscope, when that is a
//     directory: an installed program (`cmake --install`, the .deb);
//  3. the source tree's assets/ (fixed at build time): a program run from
//     its build folder.
// Never throws; a missing file inside is the caller's error to report.
std::string data_dir();

// data_dir()'s rule with its inputs given: `env` is $ATTNSCOPE_DATA_DIR (or
// null), `exe` the program's path, `source_assets` the fallback. For tests.
std::string resolve_data_dir(const char* env, const std::string& exe, const std::string& source_assets);

}  // namespace app
