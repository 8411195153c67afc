// Image loading: valid variants decode correctly; every malformed case of
// the bad-inputs reference is a clear attn::Error, never a crash or hang.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/image.hpp"
#include "png_writer.hpp"

namespace {

using testpng::Bytes;

attn::Image decode(const Bytes& b, const attn::ImageLimits& limits = {}) {
  return attn::decode_image(b, "test.png", limits);
}

std::string error_of(const Bytes& b, const attn::ImageLimits& limits = {}) {
  try {
    decode(b, limits);
  } catch (const attn::Error& e) {
    return e.what();
  }
  return "";
}

attn::Image gradient(int w, int h) {
  attn::Image img = attn::Image::blank(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto* p = img.pixel(x, y);
      p[0] = static_cast<std::uint8_t>(x * 7);
      p[1] = static_cast<std::uint8_t>(y * 13);
      p[2] = static_cast<std::uint8_t>(x + y);
      p[3] = static_cast<std::uint8_t>(255 - x);
    }
  return img;
}

TEST(Image, PngRoundTripKeepsEveryPixelAndRowOrder) {
  const attn::Image img = gradient(37, 23);
  const attn::Image back = decode(attn::encode_png(img));
  EXPECT_EQ(back.width, 37);
  EXPECT_EQ(back.height, 23);
  EXPECT_EQ(back.rgba, img.rgba);  // top row first: no flip
}

TEST(Image, SixteenBitPaletteGreyAlphaAndOneBitPngsLoadCorrectly) {
  // 16-bit RGB: the high byte is what an 8-bit reader must keep.
  Bytes rgb16;
  for (int i = 0; i < 4; ++i)
    for (int v : {i * 60, 0x80, 10, 0xff, 200, 0x01}) rgb16.push_back(static_cast<std::uint8_t>(v));
  attn::Image img = decode(testpng::png(2, 2, 16, 2, rgb16, 12));
  EXPECT_EQ(img.pixel(1, 0)[0], 60);
  EXPECT_EQ(img.pixel(1, 0)[1], 10);
  EXPECT_EQ(img.pixel(1, 0)[2], 200);
  EXPECT_EQ(img.pixel(1, 0)[3], 255);
  // Palette.
  const Bytes palette = {255, 0, 0, 0, 255, 0, 0, 0, 255};
  img = decode(testpng::png(3, 1, 8, 3, {2, 0, 1}, 3, palette));
  EXPECT_EQ(img.pixel(0, 0)[2], 255);
  EXPECT_EQ(img.pixel(1, 0)[0], 255);
  EXPECT_EQ(img.pixel(2, 0)[1], 255);
  // Grey + alpha.
  img = decode(testpng::png(2, 1, 8, 4, {100, 50, 200, 255}, 4));
  EXPECT_EQ(img.pixel(0, 0)[0], 100);
  EXPECT_EQ(img.pixel(0, 0)[1], 100);
  EXPECT_EQ(img.pixel(0, 0)[3], 50);
  EXPECT_EQ(img.pixel(1, 0)[2], 200);
  // 1-bit grey: 0b10100000 over 3 pixels.
  img = decode(testpng::png(3, 1, 1, 0, {0xA0}, 1));
  EXPECT_EQ(img.pixel(0, 0)[0], 255);
  EXPECT_EQ(img.pixel(1, 0)[0], 0);
  EXPECT_EQ(img.pixel(2, 0)[0], 255);
}

TEST(Image, TinyAndTruncatedFilesAreErrors) {
  EXPECT_NE(error_of({}), "");
  EXPECT_NE(error_of({0x89}), "");
  EXPECT_NE(error_of({0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}), "");  // signature only
  EXPECT_NE(error_of({0xff, 0xd8}), "");                                   // JPEG SOI only
  const Bytes full = attn::encode_png(gradient(64, 64));
  for (size_t cut : {size_t{20}, size_t{40}, full.size() / 2, full.size() - 13, full.size() - 1})
    EXPECT_NE(error_of(Bytes(full.begin(), full.begin() + static_cast<long>(cut))), "") << "cut at " << cut;
}

TEST(Image, ClaimedSizesAreCheckedBeforeDecoding) {
  const Bytes pixel = {1, 2, 3};
  auto header_only = [&](std::uint32_t w, std::uint32_t h) {
    Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const Bytes c = testpng::ihdr(w, h, 8, 2);
    b.insert(b.end(), c.begin(), c.end());
    const Bytes idat = testpng::chunk("IDAT", testpng::zlib_stored({0, 1, 2, 3}));
    b.insert(b.end(), idat.begin(), idat.end());
    return b;
  };
  EXPECT_NE(error_of(header_only(100000, 100000)).find("100000x100000"), std::string::npos);
  EXPECT_NE(error_of(header_only((1u << 24) + 1, 1)), "");
  EXPECT_NE(error_of(header_only(0, 5)), "");
  // A legal size beyond the pixel budget (20000^2 RGBA would be 1.6 GB).
  attn::ImageLimits limits;
  limits.max_side = 32768;
  EXPECT_NE(error_of(header_only(20000, 20000), limits).find("Mpx"), std::string::npos);
  (void)pixel;
}

TEST(Image, HugeChunkLengthAndInvalidDeflateAreErrors) {
  Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  const Bytes hdr = testpng::ihdr(4, 4, 8, 2);
  b.insert(b.end(), hdr.begin(), hdr.end());
  Bytes huge = b;
  const Bytes c = testpng::chunk("IDAT", {1, 2, 3}, 0x7ffffff0);
  huge.insert(huge.end(), c.begin(), c.end());
  EXPECT_NE(error_of(huge), "");
  // Deflate block type 3 (reserved) and a Huffman block of garbage codes.
  for (const Bytes& z :
       {Bytes{0x78, 0x01, 0x07, 0xff, 0xff, 0xff}, Bytes{0x78, 0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff}}) {
    Bytes bad = b;
    const Bytes idat = testpng::chunk("IDAT", z);
    const Bytes end = testpng::chunk("IEND", {});
    bad.insert(bad.end(), idat.begin(), idat.end());
    bad.insert(bad.end(), end.begin(), end.end());
    EXPECT_NE(error_of(bad), "");
  }
}

TEST(Image, OtherFormatsAreNamedAndRefused) {
  auto text = [](std::string s) { return Bytes(s.begin(), s.end()); };
  EXPECT_NE(error_of(text("GIF89a\x01\x00\x01\x00")).find("GIF"), std::string::npos);
  EXPECT_NE(error_of(text("P6\n2 2\n255\n012345678901")).find("PNM"), std::string::npos);
  EXPECT_NE(error_of(text("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n")).find("HDR"), std::string::npos);
  // TGA has no magic: stb without the TGA decoder reports an unknown type.
  EXPECT_NE(error_of({0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0, 24, 0}), "");
  EXPECT_NE(error_of(text("just some text, not an image")), "");
}

TEST(Image, BmpLoads) {
  // A 2x1 24-bit BMP, bottom-up rows padded to 4 bytes.
  Bytes b = {'B',
             'M',
             62,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             54,
             0,
             0,
             0,
             40,
             0,
             0,
             0,
             2,
             0,
             0,
             0,
             1,
             0,
             0,
             0,
             1,
             0,
             24,
             0,
             0,
             0,
             0,
             0,
             8,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             /* BGR */ 255,
             0,
             0,
             0,
             0,
             255,
             0,
             0};
  const attn::Image img = decode(b);
  EXPECT_EQ(img.pixel(0, 0)[2], 255);
  EXPECT_EQ(img.pixel(1, 0)[0], 255);
}

}  // namespace
