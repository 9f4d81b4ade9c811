#include "harness.h"
VC_TESTS()
