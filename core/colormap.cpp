#include "colormap.hpp"

#include <algorithm>
#include <cmath>

namespace attn {
namespace {

constexpr int kStops = 33;
// 0xRRGGBB stops; see colormap.hpp for the sources.
constexpr std::uint32_t kViridis[kStops] = {
    0x440154, 0x470d60, 0x48186a, 0x482374, 0x472d7b, 0x453781, 0x424086, 0x3e4989, 0x3b528b, 0x375b8d, 0x33638d,
    0x2f6b8e, 0x2c728e, 0x297a8e, 0x26828e, 0x23898e, 0x21918c, 0x1f978b, 0x1f9f88, 0x21a685, 0x27ad81, 0x31b57b,
    0x3dbc74, 0x4cc26c, 0x5cc863, 0x6ece58, 0x81d34d, 0x95d840, 0xaadc32, 0xc0df25, 0xd5e21a, 0xeae51a, 0xfde725,
};
constexpr std::uint32_t kMagma[kStops] = {
    0x000004, 0x030312, 0x0a0822, 0x130d34, 0x1d1147, 0x29115a, 0x36106b, 0x440f76, 0x51127c, 0x5d177f, 0x6a1c81,
    0x762181, 0x832681, 0x902a81, 0x9c2e7f, 0xaa337d, 0xb73779, 0xc23b75, 0xcf4070, 0xdb476a, 0xe55064, 0xee5b5e,
    0xf4695c, 0xf9785d, 0xfb8761, 0xfd9668, 0xfea571, 0xfeb47b, 0xfec287, 0xfed194, 0xfde0a1, 0xfceeb0, 0xfcfdbf,
};
constexpr std::uint32_t kInferno[kStops] = {
    0x000004, 0x040312, 0x0b0724, 0x150b37, 0x210c4a, 0x2f0a5b, 0x3d0965, 0x4a0c6b, 0x57106e, 0x64156e, 0x71196e,
    0x7d1e6d, 0x8a226a, 0x972766, 0xa32c61, 0xb0315b, 0xbc3754, 0xc63d4d, 0xd04545, 0xda4e3c, 0xe35933, 0xeb6429,
    0xf1711f, 0xf67e14, 0xf98c0a, 0xfb9b06, 0xfcaa0f, 0xfbba1f, 0xf9c932, 0xf5d949, 0xf2e865, 0xf3f586, 0xfcffa4,
};
constexpr std::uint32_t kPlasma[kStops] = {
    0x0d0887, 0x220690, 0x310597, 0x3f049c, 0x4c02a1, 0x5901a5, 0x6600a7, 0x7201a8, 0x7e03a8, 0x8a09a5, 0x9511a1,
    0xa01a9c, 0xaa2395, 0xb32c8e, 0xbc3587, 0xc43e7f, 0xcc4778, 0xd24f71, 0xd9586a, 0xdf6263, 0xe56b5d, 0xeb7556,
    0xf07f4f, 0xf48948, 0xf89441, 0xfb9f3a, 0xfdab33, 0xfeb72d, 0xfdc328, 0xfcd025, 0xf9dd25, 0xf5eb27, 0xf0f921,
};
constexpr std::uint32_t kCividis[kStops] = {
    0x00224e, 0x00285b, 0x002e6a, 0x053371, 0x1a386f, 0x273e6e, 0x32436d, 0x3b496c, 0x434e6c, 0x4b546c, 0x535a6d,
    0x5a5f6e, 0x61656f, 0x686a71, 0x6f7073, 0x767676, 0x7d7c78, 0x838179, 0x8b8778, 0x928d78, 0x9a9376, 0xa29975,
    0xaaa073, 0xb3a670, 0xbbad6d, 0xc3b369, 0xccba64, 0xd4c15f, 0xddc858, 0xe6d051, 0xefd748, 0xf8df3c, 0xfee838,
};
constexpr std::uint32_t kTurbo[kStops] = {
    0x30123b, 0x392a73, 0x4040a2, 0x4456c7, 0x466be3, 0x4680f6, 0x4294ff, 0x37a8fa, 0x28bceb, 0x1ccdd8, 0x18ddc2,
    0x1fe9af, 0x32f298, 0x4ef97d, 0x6dfe62, 0x8bff4b, 0xa4fc3c, 0xb7f735, 0xcbed34, 0xdde037, 0xecd13a, 0xf7c13a,
    0xfdae35, 0xfe992c, 0xfb8122, 0xf56918, 0xec530f, 0xe14109, 0xd23105, 0xc12302, 0xac1701, 0x950d01, 0x7a0403,
};

ColormapTable from_stops(const std::uint32_t* stops, int n) {
  ColormapTable t{};
  for (int i = 0; i < 256; ++i) {
    const double x = i * (n - 1) / 255.0;
    const int a = std::min(static_cast<int>(x), n - 2);
    const double f = x - a;
    auto channel = [&](int shift) {
      const double lo = (stops[a] >> shift) & 0xff, hi = (stops[a + 1] >> shift) & 0xff;
      return static_cast<std::uint8_t>(std::lround(lo + (hi - lo) * f));
    };
    t[static_cast<size_t>(i)] = {channel(16), channel(8), channel(0)};
  }
  return t;
}

ColormapTable make_table(Colormap map) {
  switch (map) {
    case Colormap::Viridis:
      return from_stops(kViridis, kStops);
    case Colormap::Magma:
      return from_stops(kMagma, kStops);
    case Colormap::Inferno:
      return from_stops(kInferno, kStops);
    case Colormap::Plasma:
      return from_stops(kPlasma, kStops);
    case Colormap::Cividis:
      return from_stops(kCividis, kStops);
    case Colormap::Turbo:
      return from_stops(kTurbo, kStops);
    case Colormap::Greyscale: {
      constexpr std::uint32_t grey[2] = {0x000000, 0xffffff};
      return from_stops(grey, 2);
    }
    case Colormap::Diverging: {
      constexpr std::uint32_t cool_warm[3] = {0x3b4cc0, 0xdddddd, 0xb40426};
      return from_stops(cool_warm, 3);
    }
  }
  return {};
}

}  // namespace

const ColormapTable& colormap_table(Colormap map) {
  static const std::array<ColormapTable, 8> tables = [] {
    std::array<ColormapTable, 8> t{};
    for (Colormap m : kAllColormaps) t[static_cast<size_t>(m)] = make_table(m);
    return t;
  }();
  return tables[static_cast<size_t>(map)];
}

template <>
std::span<const EnumName<Colormap>> enum_names<Colormap>() {
  static constexpr std::array<EnumName<Colormap>, 8> kNames = {{
      {Colormap::Viridis, "viridis", "viridis", "Perceptually uniform, blue to yellow; readable in greyscale."},
      {Colormap::Magma, "magma", "magma", "Perceptually uniform, black through purple to pale yellow."},
      {Colormap::Inferno, "inferno", "inferno", "Perceptually uniform, black through red to yellow."},
      {Colormap::Plasma, "plasma", "plasma", "Perceptually uniform, blue through magenta to yellow."},
      {Colormap::Cividis, "cividis", "cividis", "Uniform and readable with colour-vision deficiency."},
      {Colormap::Turbo, "turbo", "turbo", "A smooth rainbow: high contrast, not perceptually uniform."},
      {Colormap::Greyscale, "greyscale", "greyscale", "Black to white.", "grey gray grayscale"},
      {Colormap::Diverging, "diverging", "diverging", "Blue, grey, red: for signed values such as differences."},
  }};
  return kNames;
}

Rgb colormap_lookup(const ColormapTable& table, float v) {
  if (!(v > 0.0f)) return table[0];  // also NaN
  if (v >= 1.0f) return table[255];
  return table[static_cast<size_t>(std::lround(v * 255.0f))];  // v in [0, 1]
}

}  // namespace attn
