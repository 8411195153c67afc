#pragma once
// A sheet of maps: rows of equally sized panels with a label over each
// column and one left of each row (a ViT's layers x heads, like BertViz's
// model view or the DINO paper's figure), written as PNG, SVG or PDF.
#include <memory>
#include <string>
#include <vector>

#include "common/figure.hpp"
#include "core/image.hpp"

namespace app {

struct SheetOptions {
  double panel = 160;    // the panels' longer side, in figure units
  std::string title;     // a line above the sheet; none when empty
  std::string subtitle;  // a smaller line under it; none when empty
  bool labels = true;    // column and row labels
};

// panels[r][c]: every row as long as `columns`, all images the same size.
// columns: a label per column; rows: a label per row ("" for none).
std::unique_ptr<Figure> sheet_figure(const std::vector<std::vector<attn::Image>>& panels,
                                     const std::vector<std::string>& columns, const std::vector<std::string>& rows,
                                     const SheetOptions& options = {});

}  // namespace app
