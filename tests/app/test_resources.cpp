// The data directory: the environment's override, then share/attnscope beside
// an installed program, then the source tree's assets/.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/resources.hpp"

namespace {

namespace fs = std::filesystem;

// A fresh prefix with bin/attnscope-cli (an empty file is enough: only the
// path matters) and, when asked, share/attnscope/.
struct Prefix {
  fs::path root;
  explicit Prefix(bool with_data) {
    root = fs::temp_directory_path() / ("attnscope-resources-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root / "bin");
    std::ofstream(root / "bin" / "attnscope-cli").put('\n');
    if (with_data) fs::create_directories(root / "share" / "attnscope");
  }
  ~Prefix() { fs::remove_all(root); }
  std::string exe() const { return (root / "bin" / "attnscope-cli").string(); }
};

TEST(DataDir, InstalledProgramFindsShareBesideBin) {
  const Prefix p(true);
  EXPECT_EQ(app::resolve_data_dir(nullptr, p.exe(), "/src/assets"), (p.root / "share" / "attnscope").string());
}

TEST(DataDir, BuildFolderFallsBackToTheSourceTree) {
  const Prefix p(false);
  EXPECT_EQ(app::resolve_data_dir(nullptr, p.exe(), "/src/assets"), "/src/assets");
  EXPECT_EQ(app::resolve_data_dir(nullptr, "", "/src/assets"), "/src/assets");  // no /proc/self/exe
}

TEST(DataDir, EnvironmentOverridesBoth) {
  const Prefix p(true);
  EXPECT_EQ(app::resolve_data_dir("/opt/data", p.exe(), "/src/assets"), "/opt/data");
  // Set but empty counts as unset, as for most variables of this kind.
  EXPECT_EQ(app::resolve_data_dir("", p.exe(), "/src/assets"), (p.root / "share" / "attnscope").string());
}

TEST(DataDir, ThisTestRunsFromItsBuildFolder) {
  // Not installed: the real lookup lands on the source tree's assets/, which
  // holds the sample image (unless the environment points elsewhere).
  if (std::getenv("ATTNSCOPE_DATA_DIR")) GTEST_SKIP() << "ATTNSCOPE_DATA_DIR is set";
  EXPECT_TRUE(fs::exists(fs::path(app::data_dir()) / "sample.png")) << app::data_dir();
}

}  // namespace
