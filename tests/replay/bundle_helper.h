// Turns a repro bundle into a regression test in one line:
//   SPR_BUNDLE_REGRESSION_TEST(Issue123, "tests/replay/bundles/issue-123.bundle");
// The path is relative to the source tree (or absolute). The test fails with the first
// divergence (object, seq, field, expected vs got) when this build no longer replays it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "replay/bundle.h"
#include "replay/replay_run.h"
#include "tests/support/paths.h"

namespace spr::replay::testing {

inline void expectBundleReplays(const std::string& path) {
  const std::string full = !path.empty() && path[0] == '/' ? path : spr::testing::sourceDir() + "/" + path;
  auto bundle = readBundle(full);
  ASSERT_TRUE(bundle.isOk()) << bundle.status().toString();
  ReplayOptions options;
  Replayer replayer(options);
  ASSERT_TRUE(replayRecords(bundle->records, replayer, options).isOk());
  ASSERT_GT(replayer.folds(), 0u) << full << " has nothing to replay";
  if (const auto& d = replayer.divergence()) {
    std::string before;
    for (const auto& b : d->before) before += "\n    " + b;
    FAIL() << full << ": divergence at seq " << d->seq << " of " << d->object << " (" << d->what << ") field "
           << d->field << "\n  expected: " << d->expected << "\n  got: " << d->got << "\n  records before:" << before;
  }
}

}  // namespace spr::replay::testing

#define SPR_BUNDLE_REGRESSION_TEST(Name, Path) \
  TEST(BundleRegression, Name) { ::spr::replay::testing::expectBundleReplays(Path); }
