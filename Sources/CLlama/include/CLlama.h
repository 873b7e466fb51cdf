// Umbrella header: exposes llama.cpp's C API (installed by scripts/bootstrap) to Swift.
#include <llama.h>
