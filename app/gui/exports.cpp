// Exports for papers and slides. Every file is written whole or not at all.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/figure_data.hpp"
#include "common/panels_figure.hpp"
#include "common/sheet_figure.hpp"
#include "common/words_figure.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/npy.hpp"
#include "core/overlay.hpp"
#include "panels.hpp"

namespace gui {
namespace {

// With File > "Exports also write their numbers": BASE.npy, .csv and .json
// beside the figure (BASE: its path without the extension), the JSON
// holding every setting of the session. Returns what to add to the message.
std::string write_numbers(const AppState& state, const std::string& figure_path, app::FigureData data) {
  if (!state.settings.window.export_data) return "";
  data.settings = nlohmann::json::parse(to_json(state.settings));
  const size_t dot = figure_path.find_last_of('.'), slash = figure_path.find_last_of('/');
  const std::string base = dot != std::string::npos && (slash == std::string::npos || dot > slash)
                               ? figure_path.substr(0, dot)
                               : figure_path;
  app::write_figure_data(base, data);
  return ", with its numbers in " + base + ".npy, .csv and .json";
}

// A map over the grid, [rows, cols], as figure data.
app::FigureData grid_data(const AppState& state, std::string quantity, std::vector<float> values) {
  app::FigureData data;
  data.quantity = std::move(quantity);
  data.axes = {{"row", {}}, {"col", {}}};
  data.shape = {state.scene.grid.rows, state.scene.grid.cols};
  data.values = std::move(values);
  return data;
}

// What the image shows, as a figure's title: the query and the view.
std::string view_title(const AppState& state) {
  const ViewSettings& v = state.settings.view;
  const auto queries = state.effective_queries();
  const auto& g = state.scene.grid;
  std::string where = queries.size() == 1 ? "patch (" + std::to_string(queries[0] % g.cols) + "," +
                                                std::to_string(queries[0] / g.cols) + ")"
                                          : std::to_string(queries.size()) + " patches";
  if (state.scene.words) return app::caption_of(state.scene.words->words);
  if (state.scene.vit) {
    const int L = state.scene.vit->model->depth;
    const std::string layer = ", layer " + std::to_string(v.layer < 0 ? L - 1 : v.layer);
    if (v.query != attn::ViewQuery::Patches) return std::string(attn::entry_of(v.query).label) + layer;
    return "Attention of " + where + layer;
  }
  return "Attention of " + where;
}

// The settings in a line: the score, normaliser and temperature, and the
// head shown (patch sources), or the model (a ViT).
std::string view_subtitle(const AppState& state) {
  const Settings& s = state.settings;
  if (state.scene.vit) return state.scene.vit->model->describe();
  if (state.scene.words) return attn::describe(s.view.word_request(), state.scene.words->layers(), state.scene.heads);
  char t[32];
  std::snprintf(t, sizeof t, "%g", s.attention.temperature);
  return "score " + std::string(attn::name_of(s.attention.score)) + ", " +
         std::string(attn::name_of(attn::effective_norm(state.attention_options()))) + ", T = " + t + ", " +
         (s.view.head < 0 ? "mean of heads" : "head " + std::to_string(s.view.head)) + ", " +
         std::to_string(state.scene.grid.patch) + " px patches";
}

// A map of `on` (A's scene unless given) as a figure's panel, ringing
// `outlined` (A's queries unless given).
app::MapPanel panel_of(const AppState& state, const std::vector<float>& map, std::string label,
                       const Scene* on = nullptr, const std::vector<int>* outlined = nullptr) {
  if (!on) on = &state.scene;
  app::MapPanel p;
  p.image = on->image.get();
  p.grid = on->grid;
  p.map = map;
  p.style = state.overlay_style();
  p.outlined = outlined ? *outlined : state.scene.words ? std::vector<int>{} : state.outlined_queries();
  p.label = std::move(label);
  p.caption = app::weight_caption(p.style.scale);
  return p;
}

}  // namespace

void export_overlay(AppState& state, UiContext& ui, const std::string& path) {
  if (!state.scene.ready()) return state.post("nothing to export yet", true);
  try {
    if (app::figure_format(path) != app::FigureFormat::Png) {
      // A vector figure: the heatmap embedded at the image's resolution, the
      // title, ring, grid and colour bar as shapes.
      app::PanelsOptions options;
      options.title = view_title(state);
      options.subtitle = view_subtitle(state);
      app::panels_figure({panel_of(state, state.map, "")}, options)->save(path);
      const std::string numbers = write_numbers(state, path, grid_data(state, "attention weight", state.map));
      return state.post("exported the overlay as a figure to " + path + numbers, false);
    }
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
    const std::string numbers = write_numbers(state, path, grid_data(state, "attention weight", state.map));
    state.post("exported the overlay to " + path + " (" + std::to_string(img.width) + "x" + std::to_string(img.height) +
                   ")" + numbers,
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
    app::FigureData data = grid_data(state, "attention weight", {});
    for (int i = 0; i <= heads; ++i) {
      const auto m = state.head_map(i < heads ? i : -1);
      data.values.insert(data.values.end(), m.begin(), m.end());
    }
    data.axes.insert(data.axes.begin(), {"head", columns});
    data.shape.insert(data.shape.begin(), heads + 1);
    const std::string numbers = write_numbers(state, path, std::move(data));
    state.post("exported " + std::to_string(heads) + " heads and their " + columns.back() + " to " + path + numbers,
               false);
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
    app::FigureData data = grid_data(state, "each word's attention over the image's patches", {});
    data.values.assign(state.word_maps.data(), state.word_maps.data() + state.word_maps.size());
    data.axes.insert(data.axes.begin(), {"word", w.words});
    data.shape.insert(data.shape.begin(), state.word_maps.rows());
    state.post("exported the words grid to " + path + write_numbers(state, path, std::move(data)), false);
  } catch (const std::exception& e) {
    state.post(e.what(), true);
  }
}

void export_comparison(AppState& state, const std::string& path) {
  const Scene* b = state.settings.compare.on ? state.b_scene() : nullptr;
  if (!state.scene.ready() || !b || state.map_b.size() != static_cast<size_t>(b->grid.count()))
    return state.post("turn compare mode on first (View > Compare, or B), and let B's scene load", true);
  try {
    app::figure_format(path);  // before any drawing
    const auto [label_a, label_b] = compare_labels(state.settings, heads_word(state));
    app::MapPanel d = panel_of(state, state.difference, "A \u2212 B");
    d.style.signed_values = true;
    d.style.colormap = attn::Colormap::Diverging;
    d.caption = "difference";
    app::PanelsOptions options;
    options.title = view_title(state) + ": " + label_a + " vs " + label_b;
    options.subtitle = view_subtitle(state);
    options.panel = std::min(480, std::max(state.scene.image->width, state.scene.image->height));
    const std::vector<int> rings_b = b->words ? std::vector<int>{} : state.b_queries(*b);
    app::panels_figure(
        {panel_of(state, state.map, "A: " + label_a), panel_of(state, state.map_b, "B: " + label_b, b, &rings_b), d},
        options)
        ->save(path);
    // B's map on A's grid (resampled where the grids differ), so that the
    // three are one array.
    app::FigureData data = grid_data(state, "A's map, B's map (on A's grid), and A - B", state.map);
    const std::vector<float> b_on_a = attn::resample_map(state.map_b, b->grid, state.scene.grid);
    data.values.insert(data.values.end(), b_on_a.begin(), b_on_a.end());
    data.values.insert(data.values.end(), state.difference.begin(), state.difference.end());
    data.axes.insert(data.axes.begin(), {"panel", {"A: " + label_a, "B: " + label_b, "A - B"}});
    data.shape.insert(data.shape.begin(), 3);
    state.post("exported the comparison to " + path + write_numbers(state, path, std::move(data)), false);
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
