#include "gl.hpp"

#include <stdexcept>

#include "gl_shaders.hpp"

namespace gui {
namespace {

constexpr const char* kVersion = "#version 330 core\n";

GLuint compile(GLenum stage, const char* stage_name, const char* name, const std::string& source) {
  const GLuint s = glCreateShader(stage);
  const char* text = source.c_str();
  glShaderSource(s, 1, &text, nullptr);
  glCompileShader(s);
  GLint ok = 0;
  glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[4096] = {};
    glGetShaderInfoLog(s, sizeof log, nullptr, log);
    glDeleteShader(s);
    throw std::runtime_error(std::string("shader '") + name + "' (" + stage_name + ") failed to compile: " + log);
  }
  return s;
}

}  // namespace

void Texture::upload(int width, int height, GLenum internal_format, const void* data) {
  if (!handle_) {
    GLuint id = 0;
    glGenTextures(1, &id);
    handle_ = GlHandle<DeleteTexture>(id);
  }
  glBindTexture(GL_TEXTURE_2D, handle_.id());
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  const GLenum format = internal_format == GL_RGBA8 ? GL_RGBA : GL_RED;
  const GLenum type = internal_format == GL_R32F ? GL_FLOAT : GL_UNSIGNED_BYTE;
  if (width == width_ && height == height_ && internal_format == format_) {
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, format, type, data);
  } else {
    glTexImage2D(GL_TEXTURE_2D, 0, static_cast<GLint>(internal_format), width, height, 0, format, type, data);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    width_ = width;
    height_ = height;
    format_ = internal_format;
  }
}

void RenderTarget::resize(int width, int height) {
  if (fbo_ && width == color_.width() && height == color_.height()) return;
  color_.upload(width, height, GL_RGBA8, nullptr);
  // Targets are drawn at about one texel a screen pixel: a minifying
  // bilinear filter would only blur them (and costs four reads a pixel).
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  if (!fbo_) {
    GLuint id = 0;
    glGenFramebuffers(1, &id);
    fbo_ = GlHandle<DeleteFramebuffer>(id);
  }
  glBindFramebuffer(GL_FRAMEBUFFER, fbo_.id());
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, color_.id(), 0);
  const GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  if (status != GL_FRAMEBUFFER_COMPLETE)
    throw std::runtime_error("cannot create a " + std::to_string(width) + "x" + std::to_string(height) +
                             " render target (framebuffer status " + std::to_string(status) + ")");
}

void RenderTarget::upload(int width, int height, const std::uint8_t* rgba) {
  resize(width, height);
  color_.upload(width, height, GL_RGBA8, rgba);
  glBindTexture(GL_TEXTURE_2D, 0);
}

void RenderTarget::bind() const {
  glBindFramebuffer(GL_FRAMEBUFFER, fbo_.id());
  glViewport(0, 0, color_.width(), color_.height());
}

std::string RenderTarget::read_rgba() const {
  std::string pixels(static_cast<size_t>(width()) * height() * 4, '\0');
  glBindFramebuffer(GL_FRAMEBUFFER, fbo_.id());
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width(), height(), GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  return pixels;
}

Program Program::fullscreen(const char* name, const char* fragment_source) {
  const GLuint vs = compile(GL_VERTEX_SHADER, "vertex", name, std::string(kVersion) + kShader_fullscreen_vert);
  GLuint fs = 0;
  try {
    fs = compile(GL_FRAGMENT_SHADER, "fragment", name,
                 std::string(kVersion) + kShader_colormap_glsl + "\n#line 1\n" + fragment_source);
  } catch (...) {
    glDeleteShader(vs);
    throw;
  }
  const GLuint p = glCreateProgram();
  glAttachShader(p, vs);
  glAttachShader(p, fs);
  glLinkProgram(p);
  glDeleteShader(vs);
  glDeleteShader(fs);
  GLint ok = 0;
  glGetProgramiv(p, GL_LINK_STATUS, &ok);
  if (!ok) {
    char log[4096] = {};
    glGetProgramInfoLog(p, sizeof log, nullptr, log);
    glDeleteProgram(p);
    throw std::runtime_error(std::string("shader program '") + name + "' failed to link: " + log);
  }
  Program prog;
  prog.handle_ = GlHandle<DeleteProgram>(p);
  return prog;
}

void EmptyVertexArray::create() {
  GLuint id = 0;
  glGenVertexArrays(1, &id);
  handle_ = GlHandle<DeleteVertexArray>(id);
}

void EmptyVertexArray::draw_fullscreen() const {
  glBindVertexArray(handle_.id());
  glDrawArrays(GL_TRIANGLES, 0, 3);
  glBindVertexArray(0);
}

}  // namespace gui
