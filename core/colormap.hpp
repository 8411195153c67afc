#pragma once
// Colormaps as 256-entry RGB tables.
//
// viridis, magma, inferno, plasma: Smith & van der Walt (2015), matplotlib's
// perceptually uniform maps (CC0). cividis: Nunez, Anderton & Renslow (2018),
// PLOS ONE 13(7). turbo: Mikhailov (2019), Google AI blog "Turbo, an improved
// rainbow colormap". Each is stored as 33 stops (entries round(i*255/32) of
// the published 256-entry tables) and interpolated linearly; the result is
// within 5/255 of the published tables. greyscale is linear. diverging is
// blue-grey-red for signed values, after Moreland's cool-warm map (2009):
// the endpoints (59,76,192) and (180,4,38) through (221,221,221).
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "enum_names.hpp"

namespace attn {

enum class Colormap { Viridis, Magma, Inferno, Plasma, Cividis, Turbo, Greyscale, Diverging };
template <>
std::span<const EnumName<Colormap>> enum_names<Colormap>();
inline constexpr Colormap kAllColormaps[] = {Colormap::Viridis,   Colormap::Magma,    Colormap::Inferno,
                                             Colormap::Plasma,    Colormap::Cividis,  Colormap::Turbo,
                                             Colormap::Greyscale, Colormap::Diverging};

struct Rgb {
  std::uint8_t r, g, b;
};
using ColormapTable = std::array<Rgb, 256>;

const ColormapTable& colormap_table(Colormap map);
// The table's name and lookup (enum_names<Colormap>()), kept for brevity.
inline std::string_view colormap_name(Colormap map) { return name_of(map); }
inline std::optional<Colormap> colormap_from_name(std::string_view name) { return from_name<Colormap>(name); }

// The colour for v in [0, 1] (clamped; NaN maps to entry 0).
Rgb colormap_lookup(const ColormapTable& table, float v);

}  // namespace attn
