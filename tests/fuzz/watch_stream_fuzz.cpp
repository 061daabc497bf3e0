// Fuzz target: the watch-stream parser (adapters/k8s/watch_stream). The input is a streamed
// body cut into chunks of a size taken from its first byte; every line goes through
// decodeWatchEvent, then KnownObjects, and ERROR events through the API Status parser.
// Invariants: a split never loses or invents bytes; a decoded event has a type.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/k8s/status_error.h"
#include "adapters/k8s/watch_stream.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The lines a streamed body holds (what LineSplitter must deliver, in order).
std::string expectedLines(const std::string& body) {
  std::string out, line;
  for (char c : body) {
    if (c != '\n') {
      line += c;
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out += line + '\n';
    line.clear();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spr::k8s;
  using spr::Result;
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  LineSplitter splitter;
  KnownObjects known;
  std::string seen;
  nlohmann::json items = nlohmann::json::array();
  auto onLine = [&](const std::string& line) {
    seen += line + '\n';
    Result<WatchEvent> event = decodeWatchEvent(line);
    if (!event.isOk()) return;
    FUZZ_CHECK(!event->type.empty(), line);
    if (event->type == "ERROR") (void)parseApiStatus(event->object);
    known.apply(*event);
    if (event->object.is_object() && items.size() < 64) items.push_back(event->object);
    (void)objectKey(event->object);
  };
  for (size_t at = 0; at < body.size(); at += chunk) {
    splitter.feed(body.data() + at, std::min(chunk, body.size() - at), onLine);
  }
  const std::string pending = splitter.pending();
  FUZZ_CHECK(seen == expectedLines(body.substr(0, body.size() - pending.size())), "the splitter changed the lines");
  // A re-list of what the stream carried: every event names a known object afterwards.
  for (const WatchEvent& e : known.relist(items, "v1", "ConfigMap")) {
    if (e.type != "DELETED") FUZZ_CHECK(known.contains(objectKey(e.object)), e.object.dump());
  }
  (void)parseApiStatus(body);
  return 0;
}
