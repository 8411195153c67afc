#include "jpeg.hpp"

#include <csetjmp>
#include <cstdio>
#include <memory>
// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>

#include "error.hpp"

namespace attn {
namespace {

// libjpeg reports errors through a callback that must not return: it jumps
// back to decode_jpeg's setjmp, which cleans up and throws. No C++ object
// with a destructor lives in the frames the jump crosses (they are libjpeg's).
struct ErrorManager {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorManager*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings (level -1) mean corrupt data that libjpeg would paper over with
// grey: treat them as errors. Trace messages (level >= 0) are ignored.
void on_message(j_common_ptr c, int level) {
  if (level < 0) on_error(c);
}

}  // namespace

Image decode_jpeg(std::span<const std::uint8_t> bytes, const std::string& name) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_error;
  err.mgr.emit_message = on_message;
  // The image lives on the heap behind a pointer set before setjmp and never
  // changed after it, so it is valid whichever way we leave.
  const std::unique_ptr<Image> out = std::make_unique<Image>();
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw Error(name + ": cannot decode JPEG: " + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_EXT_RGBA;
  jpeg_start_decompress(&cinfo);
  out->width = static_cast<int>(cinfo.output_width);
  out->height = static_cast<int>(cinfo.output_height);
  out->rgba.resize(static_cast<size_t>(out->width) * out->height * 4);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->rgba.data() + static_cast<size_t>(cinfo.output_scanline) * out->width * 4;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return std::move(*out);
}

}  // namespace attn
