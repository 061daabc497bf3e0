// RecentDigests: the journal's memory of the bodies it holds stays within its capacity
// however many distinct bodies pass, and keeps the ones every poll repeats.
#include "core/journal/recent_digests.h"

#include <gtest/gtest.h>

namespace spr::journal {
namespace {

TEST(RecentDigests, StaysWithinCapacityAndKeepsWhatIsUsedEveryRound) {
  RecentDigests known(100);
  // Each round: 40 digests every poll repeats, then 30 never seen again (a lease renewal, a tape).
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 40; ++i) {
      std::string d = "repeated-" + std::to_string(i);
      if (round > 0) EXPECT_TRUE(known.touch(d)) << d << " forgotten in round " << round;
      known.insert(d);
    }
    for (int i = 0; i < 30; ++i) known.insert("once-" + std::to_string(round) + "-" + std::to_string(i));
    ASSERT_LE(known.size(), 100u);
  }
  EXPECT_EQ(known.size(), 100u);
  EXPECT_FALSE(known.touch("once-0-0")) << "the oldest one-off is evicted";
}

TEST(RecentDigests, ShrinkingEvictsTheLeastRecentlyUsedAndClearForgetsAll) {
  RecentDigests known(10);
  for (int i = 0; i < 10; ++i) known.insert(std::to_string(i));
  EXPECT_TRUE(known.touch("0"));  // now the most recent
  known.setCapacity(3);
  EXPECT_EQ(known.size(), 3u);
  EXPECT_TRUE(known.touch("0"));
  EXPECT_TRUE(known.touch("9"));
  EXPECT_FALSE(known.touch("1"));
  known.clear();
  EXPECT_EQ(known.size(), 0u);
  EXPECT_FALSE(known.touch("0"));
}

}  // namespace
}  // namespace spr::journal
