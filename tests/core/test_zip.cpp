// The zip reader: PyTorch's layout (ZIP64 records, data descriptors) and
// Python's, and each structural lie an archive can tell.
#include <gtest/gtest.h>

#include "checkpoint_builders.hpp"
#include "core/error.hpp"
#include "core/zip.hpp"

namespace {

using attn::test::Bytes;
using attn::test::make_zip;
using attn::test::set_le;

std::string fails(const Bytes& bytes, const attn::ZipLimits& limits = {}) {
  try {
    attn::ZipArchive zip(bytes, "a.zip", limits);
  } catch (const attn::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("a.zip: ", 0), 0u) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

#define EXPECT_FAILS(bytes, words, ...) \
  EXPECT_NE(fails(bytes, ##__VA_ARGS__).find(words), std::string::npos) << fails(bytes, ##__VA_ARGS__)

std::string text(std::span<const std::uint8_t> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

const std::vector<std::pair<std::string, std::string>> kTwo = {{"ckpt/data.pkl", "pickle"}, {"ckpt/data/0", "0123"}};

TEST(Zip, ReadsPythonsAndPyTorchsLayouts) {
  for (const attn::test::ZipOptions& o : {attn::test::ZipOptions{}, attn::test::pytorch_layout(),
                                          attn::test::ZipOptions{false, false, "PK\x05\x06 in a comment"}}) {
    const Bytes b = make_zip(kTwo, o).bytes;
    const attn::ZipArchive zip(b, "a.zip");
    ASSERT_EQ(zip.entries().size(), 2u);
    ASSERT_NE(zip.find("ckpt/data/0"), nullptr);
    EXPECT_EQ(text(zip.stored_data(*zip.find("ckpt/data/0"))), "0123");
    EXPECT_EQ(text(zip.find("ckpt/data.pkl")->data), "pickle");
    EXPECT_EQ(zip.find("ckpt/data/1"), nullptr);
    EXPECT_EQ(zip.entries()[0].data.data(), b.data() + 30 + 13);  // a view, not a copy
  }
  const Bytes empty = make_zip({}).bytes;
  EXPECT_TRUE(attn::ZipArchive(empty, "a.zip").entries().empty());
}

TEST(Zip, NotAZipOrCutShort) {
  EXPECT_FAILS(Bytes{}, "empty file");
  EXPECT_FAILS(Bytes(100, 'x'), "not a zip archive (no end-of-central-directory record)");
  Bytes b = make_zip(kTwo).bytes;
  b.resize(b.size() / 2);
  EXPECT_FAILS(b, "truncated zip archive");
  Bytes c = make_zip(kTwo, attn::test::ZipOptions{true, false, ""}).bytes;
  c.resize(c.size() - 1);
  EXPECT_FAILS(c, "truncated zip archive");
  // Data added in front shifts every offset.
  Bytes d = make_zip(kTwo).bytes;
  d.insert(d.begin(), 16, 0);
  EXPECT_FAILS(d, "does not end where the end record is");
}

TEST(Zip, NamesMustBeUniqueAndStayInside) {
  EXPECT_FAILS(make_zip({{"a/x", "1"}, {"a/x", "2"}}).bytes, "\"a/x\" appears twice");
  EXPECT_FAILS(make_zip({{"a/../../x", "1"}}).bytes, "climbs out");
  EXPECT_FAILS(make_zip({{"../x", "1"}}).bytes, "climbs out");
  EXPECT_FAILS(make_zip({{"a\\..\\x", "1"}}).bytes, "climbs out");
  EXPECT_FAILS(make_zip({{"/etc/x", "1"}}).bytes, "absolute path");
  EXPECT_FAILS(make_zip({{std::string("a\0b", 3), "1"}}).bytes, "NUL");
  EXPECT_FAILS(make_zip({{"", "1"}}).bytes, "empty name");
  const Bytes ok = make_zip({{"a/..b/c..", "1"}}).bytes;  // dots, but no ".." component
  EXPECT_NO_THROW(attn::ZipArchive(ok, "a.zip"));
}

TEST(Zip, LocalHeadersMustAgreeWithTheDirectory) {
  auto z = make_zip(kTwo);
  Bytes b = z.bytes;
  b[z.local[1] + 30] = 'X';  // the local name
  EXPECT_FAILS(b, "its local header names \"Xkpt/data/0\" instead");
  b = z.bytes;
  set_le(b, z.local[1] + 18, 3, 4);  // local compressed size
  EXPECT_FAILS(b, "disagree with the central directory");
  b = z.bytes;
  set_le(b, z.local[1] + 8, 8, 2);  // local method
  EXPECT_FAILS(b, "disagree on compression");
  b = z.bytes;
  set_le(b, z.central[1] + 42, z.central[0], 4);  // local header offset into the directory
  EXPECT_FAILS(b, "no local header");
  b = z.bytes;
  set_le(b, z.central[1] + 42, 0xfffffff0, 4);
  EXPECT_FAILS(b, "no local header");
  b = z.bytes;
  set_le(b, z.central[1] + 24, 5, 4);  // stored, but sizes differ
  EXPECT_FAILS(b, "sizes differ");
  b = z.bytes;
  set_le(b, z.central[1] + 20, 1000, 4);  // compressed size past the directory
  set_le(b, z.central[1] + 24, 1000, 4);
  EXPECT_FAILS(b, "disagree");
  // With a data descriptor the local sizes are zero: the directory counts.
  auto d = make_zip(kTwo, attn::test::ZipOptions{false, true, ""});
  set_le(d.bytes, d.central[1] + 20, 1000, 4);
  set_le(d.bytes, d.central[1] + 24, 1000, 4);
  EXPECT_FAILS(d.bytes, "run past the start of the central directory");
}

TEST(Zip, EntriesMustNotOverlap) {
  // The first entry's data grown to cover the second's local header.
  auto z = make_zip(kTwo);
  const std::uint64_t grown = z.local[1] - z.local[0] - 30 - 13 + 4;
  for (size_t at : {z.local[0] + 18, z.local[0] + 22, z.central[0] + 20, z.central[0] + 24})
    set_le(z.bytes, at, grown, 4);
  EXPECT_FAILS(z.bytes, "overlap");
}

TEST(Zip, FlagsMethodsAndDisks) {
  auto z = make_zip(kTwo);
  Bytes b = z.bytes;
  set_le(b, z.central[0] + 8, 1, 2);
  EXPECT_FAILS(b, "encrypted");
  b = z.bytes;
  set_le(b, z.end + 4, 1, 2);
  EXPECT_FAILS(b, "several disks");
  // A deflated entry is listed; its bytes are refused with the method's name.
  b = z.bytes;
  set_le(b, z.local[1] + 8, 8, 2);
  set_le(b, z.central[1] + 10, 8, 2);
  const attn::ZipArchive zip(b, "a.zip");
  try {
    zip.stored_data(*zip.find("ckpt/data/0"));
    FAIL();
  } catch (const attn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"ckpt/data/0\" is compressed (deflate)"), std::string::npos) << e.what();
  }
}

TEST(Zip, DirectoryAndEndRecordsAreChecked) {
  auto z = make_zip(kTwo);
  Bytes b = z.bytes;
  set_le(b, z.end + 16, z.central[0] + 1, 4);  // directory offset
  EXPECT_FAILS(b, "does not end where the end record is");
  b = z.bytes;
  set_le(b, z.end + 8, 1, 2);  // one entry of two
  set_le(b, z.end + 10, 1, 2);
  EXPECT_FAILS(b, "bytes after its 1 entries");
  b = z.bytes;
  set_le(b, z.end + 8, 3, 2);
  set_le(b, z.end + 10, 3, 2);
  EXPECT_FAILS(b, "cannot hold its 3 entries");
  b = z.bytes;
  set_le(b, z.central[1] + 30, 40, 2);  // extra field past the directory
  EXPECT_FAILS(b, "runs past the directory's end");
  EXPECT_FAILS(z.bytes, "more than the limit of 1", attn::ZipLimits{.max_entries = 1});

  auto z64 = make_zip(kTwo, attn::test::ZipOptions{true, false, ""});
  b = z64.bytes;
  set_le(b, z64.end - 20 + 8, b.size(), 8);  // the locator points past the end
  EXPECT_FAILS(b, "ZIP64 end-of-central-directory locator");
  b = z64.bytes;
  set_le(b, z64.central[0] + 30, 0, 2);  // the offset saturated, its extra field gone
  EXPECT_FAILS(b, "without a ZIP64 extra field");
  b = z64.bytes;
  set_le(b, z64.central[0] + 46 + 13 + 2, 4, 2);  // ZIP64 field shorter than the offset it must hold
  EXPECT_FAILS(b, "ZIP64 extra field too short");
}

}  // namespace
