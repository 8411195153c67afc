#pragma once
// Move-only owners of OpenGL objects: each holds one handle, may be empty
// (before a context exists, or after a move), and deletes its object when
// destroyed. All GL calls happen on the main thread.
#include <epoxy/gl.h>

#include <cstdint>
#include <string>
#include <utility>

namespace gui {

template <typename Deleter>
class GlHandle {
 public:
  GlHandle() = default;
  explicit GlHandle(GLuint id) : id_(id) {}
  GlHandle(GlHandle&& o) noexcept : id_(std::exchange(o.id_, 0)) {}
  GlHandle& operator=(GlHandle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, 0);
    }
    return *this;
  }
  GlHandle(const GlHandle&) = delete;
  GlHandle& operator=(const GlHandle&) = delete;
  ~GlHandle() { reset(); }

  GLuint id() const { return id_; }
  explicit operator bool() const { return id_ != 0; }
  void reset() {
    if (id_) Deleter{}(id_);
    id_ = 0;
  }

 private:
  GLuint id_ = 0;
};

struct DeleteTexture {
  void operator()(GLuint id) const { glDeleteTextures(1, &id); }
};
struct DeleteFramebuffer {
  void operator()(GLuint id) const { glDeleteFramebuffers(1, &id); }
};
struct DeleteProgram {
  void operator()(GLuint id) const { glDeleteProgram(id); }
};
struct DeleteVertexArray {
  void operator()(GLuint id) const { glDeleteVertexArrays(1, &id); }
};

// A 2-D texture with nearest filtering and clamped edges.
class Texture {
 public:
  Texture() = default;
  // format: GL_RGBA8 (data: RGBA bytes), GL_R32F (floats) or GL_R8 (bytes).
  void upload(int width, int height, GLenum internal_format, const void* data);
  GLuint id() const { return handle_.id(); }
  int width() const { return width_; }
  int height() const { return height_; }
  explicit operator bool() const { return static_cast<bool>(handle_); }

 private:
  GlHandle<DeleteTexture> handle_;
  int width_ = 0, height_ = 0;
  GLenum format_ = 0;
};

// A colour texture with a framebuffer to draw into it.
class RenderTarget {
 public:
  void resize(int width, int height);  // (re)allocates only when the size changes
  void bind() const;                   // binds and sets the viewport
  // Resizes, then replaces every pixel: width x height RGBA8, row 0 first.
  void upload(int width, int height, const std::uint8_t* rgba);
  const Texture& texture() const { return color_; }
  int width() const { return color_.width(); }
  int height() const { return color_.height(); }
  // RGBA8 pixels, row 0 = framebuffer row 0.
  std::string read_rgba() const;

 private:
  Texture color_;
  GlHandle<DeleteFramebuffer> fbo_;
};

// A linked program of the shared full-screen vertex shader and one fragment
// shader (plus the colormap library). Throws std::runtime_error with the
// stage name and the driver's info log when a stage fails.
class Program {
 public:
  Program() = default;
  static Program fullscreen(const char* name, const char* fragment_source);
  void use() const { glUseProgram(handle_.id()); }
  GLint uniform(const char* name) const { return glGetUniformLocation(handle_.id(), name); }
  explicit operator bool() const { return static_cast<bool>(handle_); }

 private:
  GlHandle<DeleteProgram> handle_;
};

// One empty vertex array: core profile needs one bound to draw.
class EmptyVertexArray {
 public:
  void create();
  void draw_fullscreen() const;

 private:
  GlHandle<DeleteVertexArray> handle_;
};

}  // namespace gui
