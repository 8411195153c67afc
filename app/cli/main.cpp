// attnscope-cli: the headless front end. Error boundary: every attn::Error
// (bad input) and cli::UsageError is caught here, reported as one line on
// stderr, and mapped to an exit code: 2 usage, 3 bad input.
#include <cstdio>
#include <cstring>
#include <new>

#include "commands.hpp"
#include "common/args.hpp"
#include "common/resources.hpp"
#include "core/error.hpp"

namespace {

constexpr const char* kHelp = R"(usage: attnscope-cli COMMAND [options]

attnscope computes attention, weights = normalise(score(Q, K) / T) and
output = weights · V, and shows where each token looks.

Commands:
  attend    attention on Q, K, V from .npy or CSV files
  render    one image patch's attention, drawn over the image (PNG)
  vit       a Vision Transformer's attention (safetensors or .pth weights) on an image
  words     where each word of a caption looks in the image, from a model's
            exported cross-attention (the words grid)
  caption   captions an image with the bundled captioner and shows where
            each word looked (its cross-attention)
  bench     times the engine (attention, sgemm, a ViT) on random inputs

Run 'attnscope-cli COMMAND --help' for a command's options.

Options:
  --help      this text
  --version   the version
  --data-dir  where the bundled data is (sample.png; share/attnscope when installed)

Exit codes: 0 success, 2 bad usage, 3 bad input.
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kHelp, stderr);
    return 2;
  }
  const char* command = argv[1];
  if (!std::strcmp(command, "--help") || !std::strcmp(command, "-h") || !std::strcmp(command, "help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!std::strcmp(command, "--version")) {
    std::printf("attnscope-cli %s\n", ATTNSCOPE_VERSION);
    return 0;
  }
  if (!std::strcmp(command, "--data-dir")) {  // for scripts, and to check an installation
    std::printf("%s\n", app::data_dir().c_str());
    return 0;
  }
  try {
    if (!std::strcmp(command, "attend")) return cli::run_attend(argc, argv);
    if (!std::strcmp(command, "render")) return cli::run_render(argc, argv);
    if (!std::strcmp(command, "vit")) return cli::run_vit(argc, argv);
    if (!std::strcmp(command, "words")) return cli::run_words(argc, argv);
    if (!std::strcmp(command, "caption")) return cli::run_caption(argc, argv);
    if (!std::strcmp(command, "bench")) return cli::run_bench(argc, argv);
    throw cli::UsageError(std::string("unknown command '") + command + "'");
  } catch (const cli::UsageError& e) {
    std::fprintf(stderr, "attnscope-cli: %s (see 'attnscope-cli %s --help')\n", e.what(),
                 argc > 1 && argv[1][0] != '-' ? argv[1] : "");
    return 2;
  } catch (const attn::Error& e) {
    std::fprintf(stderr, "attnscope-cli: %s\n", e.what());
    return 3;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "attnscope-cli: out of memory\n");
    return 3;
  } catch (const std::length_error&) {
    std::fprintf(stderr, "attnscope-cli: out of memory (input too large)\n");
    return 3;
  }
}
