// Exports for papers and slides. Every file is written whole or not at all.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/sheet_figure.hpp"
#include "common/words_figure.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/npy.hpp"
#include "core/overlay.hpp"
#include "panels.hpp"

namespace gui {

void export_overlay(AppState& state, UiContext& ui, const std::string& path) {
  if (!state.scene.ready()) return state.post("nothing to export yet", true);
  try {
    const attn::Image& src = *state.scene.image;
    attn::Image img;
    if (std::max(src.width, src.height) <= Renderer::max_texture_size()) {
      // At the image's own resolution on the GPU (the same pixels as the CPU's
      // render_overlay, which the tests check).
      ui.renderer.draw_overlay(ui.overlay, state.scene, state.map, state.outlined_queries(), state.overlay_style());
      ui.overlay_key.clear();
      const std::string pixels = ui.overlay.read_rgba();
      img.width = ui.overlay.width();
      img.height = ui.overlay.height();
      img.rgba.assign(pixels.begin(), pixels.end());
    } else {
      // Larger than a texture may be: the same overlay drawn on the CPU.
      const auto outlined = state.outlined_queries();
      img = attn::render_overlay(src, state.scene.grid, state.map, state.overlay_style(), outlined);
    }
    attn::save_png(path, img);
    state.post(
        "exported the overlay to " + path + " (" + std::to_string(img.width) + "x" + std::to_string(img.height) + ")",
        false);
  } catch (const std::exception& e) {
    state.post(e.what(), true);
  }
}

void export_weights(AppState& state, const std::string& path, bool csv) {
  if (state.head_maps.rows() == 0) return state.post("nothing to export yet", true);
  // The shown tokens' weights: every cell that holds one.
  const int heads = static_cast<int>(state.head_maps.rows()), n = state.tokens();
  try {
    if (csv) {
      // One row per head: the selected queries' (mean) weight on every key.
      std::string text = "head";
      for (int j = 0; j < n; ++j) text += ",key" + std::to_string(j);
      text += "\n";
      char buf[32];
      for (int h = 0; h < heads; ++h) {
        text += std::to_string(h);
        for (int j = 0; j < n; ++j) {
          std::snprintf(buf, sizeof buf, ",%.9g", state.head_maps(h, j));
          text += buf;
        }
        text += "\n";
      }
      attn::write_file_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    } else {
      std::vector<float> w;
      for (int h = 0; h < heads; ++h)
        w.insert(w.end(), state.head_maps.row(h).data(), state.head_maps.row(h).data() + n);
      const std::int64_t shape[3] = {heads, 1, n};
      attn::write_npy(path, shape, w);
    }
    state.post("exported the weights [" + std::to_string(heads) + " heads x " + std::to_string(n) + " keys] to " + path,
               false);
  } catch (const std::exception& e) {
    state.post(e.what(), true);
  }
}

void export_sheet(AppState& state, const std::string& path) {
  if (!state.scene.ready()) return state.post("nothing to export yet", true);
  try {
    app::figure_format(path);  // before any drawing
    // Every head, then the heads combined, each drawn by the CPU overlay at
    // about its size in the figure, labelled; PNG, SVG or PDF.
    const attn::Image& img = *state.scene.image;
    const int heads = state.scene.heads;
    const double panel = std::min(320, std::max(img.width, img.height));
    attn::OverlayRegion region;
    region.step = std::max(1.0f, static_cast<float>(std::max(img.width, img.height) / (2 * panel)));
    const attn::OverlayStyle style = state.overlay_style();
    const auto queries = state.outlined_queries();
    std::vector<std::vector<attn::Image>> panels(1);
    std::vector<std::string> columns;
    for (int i = 0; i <= heads; ++i) {
      panels[0].push_back(
          attn::render_overlay(img, state.scene.grid, state.head_map(i < heads ? i : -1), style, queries, region));
      columns.push_back(i < heads                              ? "head " + std::to_string(i)
                        : state.scene.vit || state.scene.words ? std::string(attn::name_of(state.settings.view.fusion))
                                                               : std::string("mean"));
    }
    app::SheetOptions options;
    options.panel = panel;
    const ViewSettings& v = state.settings.view;
    if (state.scene.vit || state.scene.words) {
      const int L = state.scene.vit ? state.scene.vit->model->depth : state.scene.words->layers();
      options.title = "layer " + std::to_string(v.layer < 0 ? L - 1 : v.layer);
    }
    app::sheet_figure(panels, columns, {""}, options)->save(path);
    state.post("exported " + std::to_string(heads) + " heads and their " + columns.back() + " to " + path, false);
  } catch (const std::exception& e) {
    state.post(e.what(), true);
  }
}

namespace {

// Every word's overlay at the shown layer and head choice, with the view's
// smoothing and scale: the words grid's panels.
std::vector<attn::Image> all_word_overlays(const AppState& state) {
  const ViewSettings& v = state.settings.view;
  attn::WordCanvas canvas{*state.scene.image, state.scene.grid};
  const attn::Matrix shown = attn::display_maps(state.word_maps, state.scene.grid, v.word_smooth, v.word_scale);
  attn::OverlayStyle style = state.overlay_style();
  style.grid = false;
  return attn::word_overlays(canvas, shown, v.word_smooth, style);
}

}  // namespace

void export_words_grid(AppState& state, const std::string& path) {
  if (!state.scene.ready() || !state.scene.words || state.word_maps.rows() == 0)
    return state.post("open word attention first (File > Open word attention)", true);
  try {
    const WordsRun& w = *state.scene.words;
    const ViewSettings& v = state.settings.view;
    const int L = w.layers(), H = state.scene.heads;
    app::WordsFigureOptions options;
    options.title = app::caption_of(w.words);
    options.subtitle = attn::describe(v.word_request(), L, H);
    app::words_grid(*state.scene.image, all_word_overlays(state), w.words, options)->save(path);
    state.post("exported the words grid to " + path, false);
  } catch (const std::exception& e) {
    state.post(e.what(), true);
  }
}

void export_word_overlays(AppState& state, const std::string& directory) {
  if (!state.scene.ready() || !state.scene.words || state.word_maps.rows() == 0)
    return state.post("open word attention first (File > Open word attention)", true);
  try {
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) throw attn::Error(directory + ": cannot create the folder: " + ec.message());
    const auto overlays = all_word_overlays(state);
    const auto& words = state.scene.words->words;
    for (size_t t = 0; t < overlays.size(); ++t)
      attn::save_png(directory + "/" + app::word_file_name(static_cast<int>(t), words[t]), overlays[t]);
    state.post("exported " + std::to_string(overlays.size()) + " word overlays to " + directory, false);
  } catch (const std::exception& e) {
    state.post(e.what(), true);
  }
}

}  // namespace gui
