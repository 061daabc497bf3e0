// kit::firstDifference on Secrets: values compare by digest, so a drift message never shows
// one, and a replayed tape (which holds only digests) decides as the live run did.
#include <gtest/gtest.h>

#include "adapters/k8s/redact.h"
#include "providers/kit.h"

namespace spr::providers::kit {
namespace {

json secret(const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", "copy"}, {"namespace", "ns"}}},
          {"data", {{"ca.crt", value}}}};
}

TEST(KitSecretDrift, ChangedValueIsDriftWithoutShowingEitherValue) {
  auto d = firstDifference(secret("c2VjcmV0LW9uZQ=="), secret("c2VjcmV0LXR3bw=="));
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("data.ca.crt"), std::string::npos) << *d;
  EXPECT_EQ(d->find("c2VjcmV0"), std::string::npos) << "a value in a drift message: " << *d;
  EXPECT_NE(d->find("<redacted sha256:"), std::string::npos) << *d;
}

TEST(KitSecretDrift, RecordedDigestOfTheSameValueIsNoDrift) {
  // What replay's live object holds: the tape's redacted Secret.
  EXPECT_FALSE(firstDifference(secret("c2VjcmV0LW9uZQ=="), k8s::redactObject(secret("c2VjcmV0LW9uZQ=="))));
  EXPECT_TRUE(firstDifference(secret("c2VjcmV0LW9uZQ=="), k8s::redactObject(secret("c2VjcmV0LXR3bw=="))));
  EXPECT_FALSE(firstDifference(secret("c2VjcmV0LW9uZQ=="), secret("c2VjcmV0LW9uZQ==")));
}

TEST(KitSecretDrift, OtherKindsStillShowTheirValues) {
  json desired = {{"kind", "ConfigMap"}, {"data", {{"key", "wanted"}}}};
  auto d = firstDifference(desired, {{"kind", "ConfigMap"}, {"data", {{"key", "found"}}}});
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("\"found\", want \"wanted\""), std::string::npos) << *d;
}

}  // namespace
}  // namespace spr::providers::kit
