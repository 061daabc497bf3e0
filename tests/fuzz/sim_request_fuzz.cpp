// Fuzz target: the local API server's request handling (sim/Cluster), in process, no
// sockets. The input is a sequence of requests separated by a line "%%"; each is
//   METHOD /path?query        (query percent-decoded as the HTTP layer does)
//   Content-Type
//   Accept
//   body...
// played against one fresh cluster, so creates, patches (JSON, merge, strategic, apply),
// selectors, watches and deletes meet each other. Invariants: every answer is an HTTP
// status with a body that serializes (what the server writes), never an exception.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/cluster.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using spr::sim::ApiRequest;

std::string percentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string takeLine(const std::string& text, size_t& at) {
  const size_t nl = text.find('\n', at);
  std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
  at = nl == std::string::npos ? text.size() : nl + 1;
  return line;
}

ApiRequest parseRequest(const std::string& text) {
  ApiRequest r;
  size_t at = 0;
  const std::string first = takeLine(text, at);
  const size_t space = first.find(' ');
  r.method = first.substr(0, space);
  std::string target = space == std::string::npos ? "/" : first.substr(space + 1);
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      const std::string pair = query.substr(start, amp - start);
      const size_t eq = pair.find('=');
      if (!pair.empty())
        r.query.emplace(percentDecode(pair.substr(0, eq)),
                        eq == std::string::npos ? "" : percentDecode(pair.substr(eq + 1)));
      start = amp + 1;
    }
  }
  r.contentType = takeLine(text, at);
  r.accept = takeLine(text, at);
  r.body = text.substr(at);
  return r;
}

std::vector<std::string> splitRequests(const std::string& input) {
  const std::string sep = "\n%%\n";
  std::vector<std::string> out;
  size_t start = 0;
  while (out.size() < 32) {
    const size_t at = input.find(sep, start);
    out.push_back(input.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + sep.size();
  }
  return out;
}

void checkResponse(const spr::sim::ApiResponse& r, const ApiRequest& request) {
  FUZZ_CHECK(r.code >= 200 && r.code <= 599, request.method + " " + request.path);
  const std::string wire = spr::sim::wireJson(r.body);  // what the HTTP layer writes
  FUZZ_CHECK(r.body.is_null() || !wire.empty(), request.method + " " + request.path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace spr::sim;
  Cluster cluster("fuzz", "token", 100, [](const Change&) {});
  for (const std::string& text : splitRequests(std::string(reinterpret_cast<const char*>(data), size))) {
    const ApiRequest request = parseRequest(text);
    if (!Cluster::isWatch(request)) {
      checkResponse(cluster.handle(request), request);
      continue;
    }
    WatchCursor cursor;
    if (auto error = cluster.openWatch(request, cursor)) {
      checkResponse(*error, request);
      continue;
    }
    bool ended = false;
    (void)cluster.pollWatch(cursor, std::chrono::milliseconds(0), ended);
    (void)cluster.bookmarkLine(cursor);
  }
  return 0;
}
