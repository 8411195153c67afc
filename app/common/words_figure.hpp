#pragma once
// The words grid ("Show, Attend and Tell"'s figure): the image, then one
// panel per word with the word as its label, in as many columns as fit.
#include <string>
#include <vector>

#include "common/figure.hpp"
#include "core/image.hpp"

namespace app {

struct WordsFigureOptions {
  double panel = 224;    // the panels' longer side, in figure units
  std::string title;     // a line above the panels (e.g. the caption); none when empty
  std::string subtitle;  // a smaller line under it (the settings); none when empty
  bool labels = true;    // the words under their panels
};

// Columns for `panels` panels: one row up to 8, else about twice as many
// columns as rows (at most 10).
int words_grid_columns(int panels);

// image: the image as the maps were drawn on; overlays: one per word, the
// same size. words.size() == overlays.size().
std::unique_ptr<Figure> words_grid(const attn::Image& image, const std::vector<attn::Image>& overlays,
                                   const std::vector<std::string>& words, const WordsFigureOptions& options = {});

// A word as a label: whitespace-only tokens as "␣", line breaks and tabs
// escaped, a tokenizer's leading-space marks ("Ġ", "▁") kept as they are.
std::string word_label(const std::string& word);
// The words' labels joined by single spaces (a figure's default title).
std::string caption_of(const std::vector<std::string>& words);

// The file name of word `index`'s overlay: "NN-WORD.png", WORD being the
// word's letters, digits, '-' and '_' (at most 24), "NN.png" when none.
std::string word_file_name(int index, const std::string& word);

}  // namespace app
