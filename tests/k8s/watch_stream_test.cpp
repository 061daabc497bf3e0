#include <gtest/gtest.h>

#include "adapters/k8s/watch_stream.h"

namespace spr::k8s {
namespace {

using nlohmann::json;

TEST(LineSplitter, SplitsAcrossChunksAndSkipsEmptyLines) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  auto collect = [&](const std::string& l) { lines.push_back(l); };
  splitter.feed("{\"a\":1}\n{\"b\"", 12, collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}"}));
  EXPECT_EQ(splitter.pending(), "{\"b\"");
  std::string rest = ":2}\r\n\n{\"c\":3}\n";
  splitter.feed(rest.data(), rest.size(), collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_TRUE(splitter.pending().empty());
}

TEST(WatchEventDecoder, DecodesTypesAndRejectsGarbage) {
  auto added =
      decodeWatchEvent(R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"p","resourceVersion":"9"}}})");
  ASSERT_TRUE(added.isOk());
  EXPECT_EQ(added->type, "ADDED");
  EXPECT_EQ(added->resourceVersion, "9");
  auto error = decodeWatchEvent(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})");
  ASSERT_TRUE(error.isOk());
  EXPECT_EQ(error->object["code"], 410);
  EXPECT_EQ(decodeWatchEvent("not json").status().code(), Code::kInternal);
  EXPECT_EQ(decodeWatchEvent(R"({"object":{}})").status().code(), Code::kInternal);
}

TEST(KnownObjects, RelistReportsAddedModifiedAndDeleted) {
  KnownObjects known;
  auto ev = [](const std::string& type, const std::string& ns, const std::string& name, const std::string& rv) {
    return WatchEvent{type, {{"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}}}, rv};
  };
  known.apply(ev("ADDED", "a", "x", "1"));
  known.apply(ev("ADDED", "a", "y", "2"));
  known.apply(ev("ADDED", "", "cluster-wide", "3"));
  known.apply(ev("DELETED", "a", "y", "4"));
  known.apply(ev("ADDED", "a", "z", "5"));
  EXPECT_EQ(known.size(), 3u);
  json items = json::array({{{"metadata", {{"namespace", "a"}, {"name", "x"}, {"resourceVersion", "1"}}}},
                            {{"metadata", {{"namespace", "a"}, {"name", "z"}, {"resourceVersion", "9"}}}},
                            {{"metadata", {{"namespace", "b"}, {"name", "new"}, {"resourceVersion", "8"}}}}});
  auto events = known.relist(items, "v1", "Pod");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, "MODIFIED");
  EXPECT_EQ(events[0].object["kind"], "Pod");  // list items get the list's kind
  EXPECT_EQ(events[1].type, "ADDED");
  EXPECT_EQ(events[2].type, "DELETED");
  EXPECT_EQ(events[2].object["metadata"]["name"], "cluster-wide");
  EXPECT_FALSE(events[2].object["metadata"].contains("namespace"));
  EXPECT_TRUE(known.contains("b/new"));
  EXPECT_FALSE(known.contains("/cluster-wide"));
}

}  // namespace
}  // namespace spr::k8s
