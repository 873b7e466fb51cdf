// Intentionally empty: SwiftPM needs one source file to build the CLlama module.
#include "CLlama.h"
