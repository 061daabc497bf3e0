// Bundles exported from recorded journals, kept as regression tests (one line each).
#include "tests/replay/bundle_helper.h"

SPR_BUNDLE_REGRESSION_TEST(AcmeUpdateAfterBackoff, "tests/replay/bundles/acme-a.bundle")
SPR_BUNDLE_REGRESSION_TEST(CrashDuringCreate, "tests/replay/bundles/acme-2-crash.bundle")
