#pragma once
// Words over an image: where the image's patches sit among an attention
// tensor's keys, the record that describes it, and each word's map.
//
// Cross-attention [L, H, T, N]: T words (queries) over N keys, of which
// cols x rows, from `offset` on and row-major, are the image's patches;
// the others are the model's text or special tokens (a class token, a
// prompt before the image, the words after it).
#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attention_record.hpp"
#include "attention_views.hpp"
#include "enum_names.hpp"
#include "image.hpp"
#include "overlay.hpp"

namespace attn {

struct ImageKeys {
  int cols = 0, rows = 0;  // the patch grid the image's keys cover
  int offset = 0;          // the first image key
  bool grid_inferred = false, offset_inferred = false;
  int count() const { return cols * rows; }
};

// Places the image's keys among `keys` keys for an image of `width` x
// `height` pixels. Given a grid, the offset defaults to 0 when the grid's
// cells are all the keys and to 1 when one leading key is left (a class
// token). Without a grid, it is inferred from the image's aspect among the
// factor pairs of the image keys' count (all the keys, or all but one leading
// class token; with an offset, all the keys from it on): the pair closest
// to the aspect (all the keys on a tie), within a factor 1.5 of it. Throws attn::Error saying what does not
// fit (an offset past the end, a grid larger than the keys, no grid that
// matches).
ImageKeys place_image_keys(int keys, int width, int height, std::optional<std::array<int, 2>> grid,
                           std::optional<int> offset);
// One line, e.g. "24 x 24 patches (inferred from the image's aspect), keys 1 to 576 of 577".
std::string describe(const ImageKeys& keys, int key_count);

// The image as the maps are drawn on: resized to a whole number of pixels
// per cell (about the image's own size), and that grid.
struct WordCanvas {
  Image image;
  PatchGrid grid;
};
WordCanvas word_canvas(const Image& image, const ImageKeys& keys);

// The record of imported word attention: token set 0 the keys (the image's
// patches on `grid`, the other keys as Text tokens with empty text), token
// set 1 the words, one Cross attention [L, H, T, N] between them.
AttentionRecord word_record(AttentionStack weights, const std::vector<std::string>& words, const ImageKeys& keys,
                            const PatchGrid& grid);

// Display smoothing of a word's map: none (flat patches), bilinear between
// patch centres, or a Gaussian blur of one patch's width before the bilinear
// step (the soft maps of "Show, Attend and Tell").
enum class WordSmooth { None, Bilinear, Gaussian };
template <>
std::span<const EnumName<WordSmooth>> enum_names<WordSmooth>();

// How maps are scaled for display: each word's to its own maximum, or every
// word's to the largest over all of them (so their strengths compare).
enum class WordScale { Word, Shared };
template <>
std::span<const EnumName<WordScale>> enum_names<WordScale>();

struct WordRequest {
  int layer = -1;  // -1: the last layer
  bool mean_of_layers = false;
  int head = -1;  // -1: the heads fused by `fusion`
  HeadFusion fusion = HeadFusion::Mean;
};

// The request in words, for a record of `layers` layers and `heads` heads:
// e.g. "layer 3 of 4, mean of 8 heads" or "mean of 4 layers, head 2 of 8".
std::string describe(const WordRequest& request, int layers, int heads);

// Every word's row over all N keys, [T, N], of the record's Cross
// attention at the chosen layer (or the mean of the layers) and head (or
// fusion); raw weights, nothing rescaled.
Matrix word_rows(const AttentionRecord& record, const WordRequest& request);
// Those rows' image keys on the image's cells, [T, cells] (row-major cells).
Matrix image_maps(const AttentionRecord& record, const Matrix& rows);
// word_rows, then image_maps.
Matrix word_maps(const AttentionRecord& record, const WordRequest& request);

// The selected words' mean row (rows: word_rows'): the share of its weight
// on the image's keys, how spread it is over them (exp of the entropy of
// the image part renormalised: 1 for one patch, all of them when uniform),
// and its strongest patch.
struct WordStatistics {
  double image_share = 0, spread = 0, peak = 0;
  int peak_cell = 0;
};
WordStatistics word_statistics(const Matrix& rows, const ImageKeys& keys, std::span<const int> words);

// The words `words` averaged (a selection of several), [cells].
std::vector<float> mean_word_map(const Matrix& maps, std::span<const int> words);

// For one image cell, every word's weight there ([T]): the reverse view
// (hover a patch, see which words look at it).
std::vector<float> words_at_cell(const Matrix& maps, int cell);

// Maps ready to colour: each row in [0, 1] by `scale`, after `smooth`'s
// blur (Gaussian). The overlay's upsampling goes with it: upsample_of(smooth).
// Maps with negative values (signed_maps) are scaled symmetrically: 0.5 is
// zero, 0 and 1 the largest magnitude; draw them with the diverging map.
Matrix display_maps(const Matrix& maps, const PatchGrid& grid, WordSmooth smooth, WordScale scale);
Upsample upsample_of(WordSmooth smooth);
bool signed_maps(const Matrix& maps);

// What the view shows for a selection of words, [cells]: with the word
// scale, their mean map scaled to its own maximum; with the shared scale,
// their mean on the scale shared by every word.
std::vector<float> selection_map(const Matrix& maps, const PatchGrid& grid, std::span<const int> words,
                                 WordSmooth smooth, WordScale scale);

// One overlay per row of `display` (display_maps' output) on the canvas,
// with `style`'s colormap, opacity and grid; its scale is Fixed (the rows
// are scaled already) and its upsampling upsample_of(smooth).
std::vector<Image> word_overlays(const WordCanvas& canvas, const Matrix& display, WordSmooth smooth,
                                 OverlayStyle style);

// A Gaussian blur of a map on a cols x rows grid, sigma in cells: each value
// a weighted mean of its neighbours (taps normalised, edges clamped).
std::vector<float> gaussian_blur(std::span<const float> map, int cols, int rows, double sigma);

}  // namespace attn
